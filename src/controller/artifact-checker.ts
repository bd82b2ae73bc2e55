// The checks of one digest: signatures (spec.verify) and content (spec.scan), each cached by digest +
// policy hash so nothing is re-verified or re-scanned without a change. Trust material (Secrets,
// ConfigMaps) is read here and handed to the verifier as data; a missing one stalls the CR.
import type { ArtifactVerification, VerifySpec } from '../api/artifact-verification.ts';
import type { DigestReference } from '../registry/reference.ts';
import type { ResolvedArtifact } from '../registry/resolved-artifact.ts';
import { trustPolicyFromSpec } from '../verify/trust-policy.ts';
import { TrustPolicyError } from '../verify/errors.ts';
import { verifyArtifact, verifyHelmChart } from './signature-check.ts';
import type { HttpChartFiles } from '../verify/provenance/http-chart.ts';
import type { TrustPolicy, VerificationResult } from '../verify/types.ts';
import type { ChainRevocation } from '../verify/notation/revocation/revocation.ts';
import { revocationActionFor } from '../verify/notation/verification-level.ts';
import { scanArtifact, scanChartArchive } from '../scan/scan-artifact.ts';
import { ScanError } from '../scan/errors.ts';
import { isHelmRepositoryError } from '../registry/helm-repository/errors.ts';
import type { LiveRenders } from '../scan/helm/live-renders.ts';
import type { ScanResult } from '../scan/types.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { ResultCache, stableHash } from './result-cache.ts';
import { stalled } from './reconcile-error.ts';
import { Reason } from '../api/conditions.ts';
import type { ScanSummary } from './reconcile-state.ts';
import type { LoadedArtifact } from './source-loader.ts';

export interface CheckedArtifact {
  readonly verification?: VerificationResult;
  readonly scan?: ScanSummary;
}

export interface ArtifactCheckerOptions {
  readonly cluster: ClusterAccess;
  readonly helmBinary?: string | undefined;
  readonly kubeVersion?: string | undefined;
  readonly now: () => Date;
  /** Seconds one digest took to verify and scan, when it was not answered from the cache. */
  readonly onChecked?: (seconds: number) => void;
  /** OCSP / CRL checks of Notary Project chains. */
  readonly revocation?: ChainRevocation;
  /** helm renders in flight (killed when the operator stops). */
  readonly liveRenders?: LiveRenders;
  /** The signature check (signature-check.ts); replaced only in tests of the caching around it. */
  readonly verify?: typeof verifyArtifact;
  /** The content scan (scan/scan-artifact.ts); replaced only in tests of the caching around it. */
  readonly scan?: typeof scanArtifact;
  /** How many ArtifactVerifications there are now: the result caches hold at least a few per CR. */
  readonly watchedObjects?: () => number;
}

/** Results kept at least, and per watched CR (a CR checks one digest, two while a tag moves). */
const MIN_VERIFICATIONS = 2000;
const MIN_SCANS = 500;
const PER_OBJECT = 2;

/**
 * A verdict that depended on revocation data is re-verified this often (a certificate revoked after
 * its digest was trusted is noticed within the hour); every other verdict stays cached until the digest
 * or the policy changes.
 */
export const REVOCATION_RECHECK_MS = 60 * 60 * 1000;

const checksRevocation = (policy: TrustPolicy): boolean =>
  policy.notation.some((trust) => revocationActionFor(trust) !== 'skip');

/** Revocation checks that read CRLs afresh (a requested re-check must not be answered by a cached CRL). */
const refreshing = (revocation: ChainRevocation): ChainRevocation => ({
  check: (chain, options) => revocation.check(chain, { ...options, refresh: true }),
});

/**
 * What a verification is cached under: the repository too (a signature is only ever valid for the digest
 * in its own repository), and, when revocation is looked at, the current hour.
 */
export const verificationCacheKey = (
  reference: DigestReference,
  policy: TrustPolicy,
  now: Date,
  tag?: string,
  source?: 'helm-http',
): string =>
  stableHash({
    // A chart of an HTTP repository is judged on other material (its .prov only) than an OCI artifact.
    ...(source !== undefined ? { source } : {}),
    registry: reference.registry,
    repository: reference.repository,
    digest: reference.digest,
    // A provenance keyring hashes as its digest (ProvenanceKeyring.toJSON): a rotated Secret is a new key.
    policy,
    ...(checksRevocation(policy)
      ? { revocationPeriod: Math.floor(now.getTime() / REVOCATION_RECHECK_MS) }
      : {}),
    // A Helm provenance is judged for the version the tag names: one digest under two tags, two verdicts.
    ...((policy.provenance ?? []).length > 0 && tag !== undefined ? { tag } : {}),
  });

const secretNames = (spec: VerifySpec): string[] => [
  ...(spec.cosign ?? []).flatMap((s) => (s.secretRef ? [s.secretRef.name] : [])),
  ...(spec.notation ?? []).flatMap((s) => (s.trustStore.secretRef ? [s.trustStore.secretRef.name] : [])),
];

/** Secrets read as bytes: OpenPGP keyrings may be binary (a UTF-8 decode would corrupt them). */
const keyringSecretNames = (spec: VerifySpec): string[] =>
  (spec.provenance ?? []).flatMap((s) => (s.keyring ? [s.keyring.secretRef.name] : []));

const configMapNames = (spec: VerifySpec): string[] =>
  (spec.cosign ?? []).flatMap((s) => (s.trustedRoot ? [s.trustedRoot.configMapRef.name] : []));

const summarizeScan = (result: ScanResult): ScanSummary => ({
  rendered: result.rendered,
  findings: result.findings,
  failed: result.reasons.includes('FindingsAtFailOn'),
  problems: result.reasons.filter((r) => r !== 'FindingsAtFailOn'),
});

export class ArtifactChecker {
  private readonly options: ArtifactCheckerOptions;
  private readonly verifications: ResultCache<VerificationResult>;
  private readonly scans: ResultCache<ScanSummary>;

  constructor(options: ArtifactCheckerOptions) {
    this.options = options;
    const watched = options.watchedObjects ?? (() => 0);
    this.verifications = new ResultCache(() => Math.max(MIN_VERIFICATIONS, PER_OBJECT * watched()));
    this.scans = new ResultCache(() => Math.max(MIN_SCANS, PER_OBJECT * watched()));
  }

  /**
   * `resolved`: the digest `artifact` names now, with its client (reconciler.ts resolveDigests).
   * `options.reverify`: compute the verification again (a person asked for a fresh check).
   * `options.tag`: the tag the digest was resolved from, when known (a Helm provenance names a version).
   */
  async check(
    object: ArtifactVerification,
    artifact: LoadedArtifact,
    resolved: ResolvedArtifact,
    options: { reverify?: boolean; tag?: string | undefined } = {},
  ): Promise<CheckedArtifact> {
    const computed = { any: false };
    const started = performance.now();
    const [verification, scan] = await Promise.all([
      object.spec.verify
        ? this.verify(object, object.spec.verify, resolved, computed, options.reverify, options.tag)
        : undefined,
      this.scan(object, artifact, resolved, computed),
    ]);
    if (computed.any) this.options.onChecked?.((performance.now() - started) / 1000);
    return { ...(verification ? { verification } : {}), ...(scan ? { scan } : {}) };
  }

  private async verify(
    object: ArtifactVerification,
    spec: VerifySpec,
    resolved: ResolvedArtifact,
    computed: { any: boolean },
    reverify = false,
    tag?: string,
  ): Promise<VerificationResult> {
    const { reference } = resolved;
    const namespace = object.metadata.namespace ?? '';
    const secrets: Record<string, Record<string, string>> = {};
    const keyringSecrets: Record<string, Record<string, Uint8Array>> = {};
    const textNames = new Set(secretNames(spec));
    const byteNames = new Set(keyringSecretNames(spec));
    for (const name of new Set([...textNames, ...byteNames])) {
      const data = await this.options.cluster.readSecret(namespace, name);
      if (!data)
        throw stalled(
          Reason.TrustMaterialMissing,
          `Secret ${namespace}/${name} named in spec.verify does not exist`,
        );
      if (textNames.has(name))
        secrets[name] = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('utf8')]));
      if (byteNames.has(name))
        keyringSecrets[name] = Object.fromEntries(
          Object.entries(data).map(([k, v]) => [k, new Uint8Array(v)]),
        );
    }
    const configMaps: Record<string, Record<string, string>> = {};
    for (const name of new Set(configMapNames(spec))) {
      const data = await this.options.cluster.readConfigMap(namespace, name);
      if (!data)
        throw stalled(
          Reason.TrustMaterialMissing,
          `ConfigMap ${namespace}/${name} named in spec.verify does not exist`,
        );
      configMaps[name] = { ...data };
    }
    let policy;
    try {
      policy = await trustPolicyFromSpec(spec, { secrets, configMaps, keyringSecrets });
    } catch (error) {
      // A pattern RE2 refuses is the spec's fault; anything else is about the Secret / ConfigMap material.
      if (error instanceof TrustPolicyError)
        throw stalled(
          error.code === 'InvalidIdentityPattern' ? Reason.InvalidSpec : Reason.TrustMaterialMissing,
          error.message,
          error,
        );
      throw error;
    }
    const key = verificationCacheKey(
      reference,
      policy,
      this.options.now(),
      tag,
      resolved.kind === 'helm-http' ? 'helm-http' : undefined,
    );
    const revocation = this.options.revocation;
    const verify = this.options.verify ?? verifyArtifact;
    const options = {
      now: this.options.now,
      tag,
      ...(revocation ? { revocation: reverify ? refreshing(revocation) : revocation } : {}),
    };
    // A swapped archive's verdict is not kept: it is about the bytes served now, not about the digest.
    let mismatched = false;
    return this.verifications.get(
      key,
      () => {
        computed.any = true;
        if (resolved.kind !== 'helm-http') return verify(resolved.client, reference, policy, options);
        const { entry, repository } = resolved;
        const files = async (): Promise<HttpChartFiles> => {
          const [fetched, provenance] = await Promise.all([
            resolved.archive().catch((error: unknown) => {
              mismatched ||= isHelmRepositoryError(error, 'ChartDigestMismatch');
              throw error;
            }),
            repository.fetchProvenance(entry),
          ]);
          return {
            name: entry.name,
            version: entry.version,
            archiveSha256: fetched.digest,
            provenance: provenance.found ? new Uint8Array(provenance.bytes) : undefined,
          };
        };
        return verifyHelmChart(
          files,
          { repository: `${reference.registry}/${reference.repository}`, digest: reference.digest },
          policy,
          options,
        );
      },
      (result) => result.verdict !== 'Error' && !mismatched,
      { refresh: reverify },
    );
  }

  private async scan(
    object: ArtifactVerification,
    artifact: LoadedArtifact,
    resolved: ResolvedArtifact,
    computed: { any: boolean },
  ): Promise<ScanSummary | undefined> {
    const { reference } = resolved;
    const spec = object.spec.scan ?? {};
    if (spec.helm?.enabled === false && !spec.sbom?.required && !spec.wasm) return undefined;
    const values = artifact.helmValues;
    const key = stableHash({
      ...(resolved.kind === 'helm-http' ? { source: 'helm-http' } : {}),
      registry: reference.registry,
      repository: reference.repository,
      digest: reference.digest,
      spec,
      values: values ?? null,
    });
    const scan = this.options.scan ?? scanArtifact;
    try {
      return await this.scans.get(key, async () => {
        computed.any = true;
        const scanOptions = {
          helmBinary: this.options.helmBinary,
          kubeVersion: this.options.kubeVersion,
          values,
          namespace: object.metadata.namespace,
          liveRenders: this.options.liveRenders,
        };
        return summarizeScan(
          resolved.kind === 'helm-http'
            ? await scanChartArchive((await resolved.archive()).bytes, spec, scanOptions)
            : await scan(resolved.client, reference, spec, scanOptions),
        );
      });
    } catch (error) {
      // A chart that cannot be unpacked or rendered safely is itself a finding, and an archive other than
      // the digest names (an HTTP repository's swapped bytes) a failed requirement: untrusted, not an
      // outage, and not cached.
      if (error instanceof ScanError || isHelmRepositoryError(error, 'ChartDigestMismatch'))
        return {
          rendered: false,
          findings: [],
          failed: false,
          problems: [`${error.code}: ${error.message}`],
        };
      throw error;
    }
  }
}
