// ArtifactChecker with an in-memory ClusterAccess (tagguard's own interface): trust material read from the
// CR's namespace and each refusal as a stalling ReconcileError with its reason, and the verification cache
// (digest + repository + policy, a requested re-check bypassing it). Only what needs no registry I/O; where a
// verdict or a scan must be arranged, stand-ins take the place of verifyArtifact and scanArtifact.
import { describe, expect, it } from 'vitest';
import type { ArtifactVerification, ScanSpec, VerifySpec } from '../../src/api/artifact-verification.ts';
import { Reason } from '../../src/api/conditions.ts';
import {
  ArtifactChecker,
  REVOCATION_RECHECK_MS,
  type ArtifactCheckerOptions,
  type CheckedArtifact,
} from '../../src/controller/artifact-checker.ts';
import type { ClusterAccess } from '../../src/controller/cluster-access.ts';
import { ReconcileError } from '../../src/controller/reconcile-error.ts';
import { RegistryAccess, type ArtifactAccess } from '../../src/controller/registry-access.ts';
import type { LoadedArtifact } from '../../src/controller/source-loader.ts';
import type { RegistryRequestEvent } from '../../src/registry/transport.ts';
import { repositoryReference } from '../../src/registry/reference.ts';
import type { ResolvedArtifact } from '../../src/registry/resolved-artifact.ts';
import { ScanError } from '../../src/scan/errors.ts';
import type { ScanResult } from '../../src/scan/types.ts';
import { TrustPolicyError, type TrustPolicyErrorCode } from '../../src/verify/errors.ts';
import type { CertCheckOptions } from '../../src/verify/notation/revocation/types.ts';
import type { TrustPolicy, VerificationResult } from '../../src/verify/types.ts';
import { makeKey } from '../verify/provenance/provenance-fixtures.ts';

const NS = 'apps';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
const NO_SCAN: ScanSpec = { helm: { enabled: false } };

interface World {
  readonly checker: ArtifactChecker;
  /** `Secret ns/name` and `ConfigMap ns/name`, in the order read. */
  readonly reads: string[];
  /** Registry requests made: none of these tests may reach a registry. */
  readonly requests: RegistryRequestEvent[];
  /** Seconds reported per computed (not cached) check. */
  readonly checked: number[];
  /** `digest` of `artifact` resolved, with a client whose requests land in `requests`. */
  readonly at: (digest: string, artifact?: LoadedArtifact & { access: ArtifactAccess }) => ResolvedArtifact;
}

const worldWith = (
  material: {
    /** A string value is stored as its UTF-8 bytes, a Uint8Array as it is (a binary keyring). */
    secrets?: Record<string, Record<string, string | Uint8Array>>;
    configMaps?: Record<string, Record<string, string>>;
  } = {},
  seams: Pick<ArtifactCheckerOptions, 'verify' | 'scan' | 'revocation'> = {},
): World => {
  const reads: string[] = [];
  const requests: RegistryRequestEvent[] = [];
  const checked: number[] = [];
  const notUsed = (): Promise<never> => Promise.reject(new Error('the checker does not use this'));
  const cluster: ClusterAccess = {
    readSecret: (namespace, name) => {
      reads.push(`Secret ${namespace}/${name}`);
      const data = material.secrets?.[`${namespace}/${name}`];
      return Promise.resolve(
        data &&
          Object.fromEntries(
            Object.entries(data).map(([k, v]) => [
              k,
              typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v),
            ]),
          ),
      );
    },
    readConfigMap: (namespace, name) => {
      reads.push(`ConfigMap ${namespace}/${name}`);
      return Promise.resolve(material.configMaps?.[`${namespace}/${name}`]);
    },
    getArtifactVerification: notUsed,
    writeStatus: notUsed,
    writeFinalizers: notUsed,
  };
  const registries = new RegistryAccess({ onRequest: (event) => requests.push(event), requestsPerSecond: 0 });
  const checker = new ArtifactChecker({
    cluster,
    now: () => new Date('2026-12-04T12:00:00Z'),
    onChecked: (seconds) => checked.push(seconds),
    ...seams,
  });
  const at = (
    digest: string,
    artifact: LoadedArtifact & { access: ArtifactAccess } = artifactAt(),
  ): ResolvedArtifact => ({
    client: registries.clientFor(artifact.access),
    reference: { ...artifact.access.reference, digest },
  });
  return { checker, reads, requests, checked, at };
};

const avWith = (verify: VerifySpec | undefined, name = 'payment'): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name, namespace: NS },
  spec: {
    sourceRef: { kind: 'OCIRepository', name: 'payment' },
    ...(verify ? { verify } : {}),
    scan: NO_SCAN,
  },
});

const artifactAt = (
  url = 'oci://registry.example/charts/payment',
): LoadedArtifact & { access: ArtifactAccess } => ({
  access: {
    url,
    reference: repositoryReference(url),
    tag: '3.1.0',
    insecure: false,
    credential: { kind: 'anonymous' },
    credentialId: 'anonymous',
  },
  origin: 'OCIRepository/apps/payment',
});

const refusal = async (promise: Promise<CheckedArtifact>): Promise<ReconcileError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReconcileError);
  return error as ReconcileError;
};

const policyCause = (error: ReconcileError): TrustPolicyErrorCode => {
  expect(error.cause).toBeInstanceOf(TrustPolicyError);
  return (error.cause as TrustPolicyError).code;
};

describe('trust material', () => {
  it('a cosign Secret that does not exist in the CR’s namespace stalls (TrustMaterialMissing) before any registry request', async () => {
    const w = worldWith({ secrets: { 'other/cosign-keys': { 'cosign.pub': 'x' } } });
    const error = await refusal(
      w.checker.check(
        avWith({ cosign: [{ name: 'release', secretRef: { name: 'cosign-keys' } }] }),
        artifactAt(),
        w.at(DIGEST),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(error.message).toBe('Secret apps/cosign-keys named in spec.verify does not exist');
    expect(w.reads).toEqual(['Secret apps/cosign-keys']);
    expect(w.requests).toEqual([]);
    expect(w.checked).toEqual([]);
  });

  it('a notation trust-store Secret that does not exist stalls the same way', async () => {
    const w = worldWith();
    const error = await refusal(
      w.checker.check(
        avWith({
          notation: [
            { name: 'release', trustStore: { secretRef: { name: 'notation-ca' } }, trustedIdentities: ['*'] },
          ],
        }),
        artifactAt(),
        w.at(DIGEST),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(error.message).toBe('Secret apps/notation-ca named in spec.verify does not exist');
  });

  it('a trusted-root ConfigMap that does not exist stalls (TrustMaterialMissing)', async () => {
    const w = worldWith();
    const error = await refusal(
      w.checker.check(
        avWith({
          cosign: [
            {
              name: 'keyless',
              keyless: { issuer: 'https://token.actions.githubusercontent.com', subject: 'ci@example.com' },
              trustedRoot: { configMapRef: { name: 'sigstore-root' } },
            },
          ],
        }),
        artifactAt(),
        w.at(DIGEST),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(error.message).toBe('ConfigMap apps/sigstore-root named in spec.verify does not exist');
    expect(w.reads).toEqual(['ConfigMap apps/sigstore-root']);
  });

  it('reads each named Secret once, in the order of the spec, and stops at the first missing one', async () => {
    const w = worldWith({ secrets: { 'apps/keys': { 'cosign.pub': 'x' } } });
    await refusal(
      w.checker.check(
        avWith({
          cosign: [{ name: 'a', secretRef: { name: 'keys' } }],
          notation: [
            { name: 'b', trustStore: { secretRef: { name: 'keys' } }, trustedIdentities: ['*'] },
            { name: 'c', trustStore: { secretRef: { name: 'missing' } }, trustedIdentities: ['*'] },
            { name: 'd', trustStore: { secretRef: { name: 'never-read' } }, trustedIdentities: ['*'] },
          ],
        }),
        artifactAt(),
        w.at(DIGEST),
      ),
    );
    expect(w.reads).toEqual(['Secret apps/keys', 'Secret apps/missing']);
  });

  it.each<[string, VerifySpec, Record<string, Record<string, string>>, TrustPolicyErrorCode, string]>([
    [
      'a cosign Secret without a *.pub key',
      { cosign: [{ name: 'release', secretRef: { name: 'cosign-keys' } }] },
      { 'apps/cosign-keys': { 'cosign.key': 'private!' } },
      'MaterialMissing',
      'signer "release": Secret "cosign-keys" has no *.pub key',
    ],
    [
      'an inline public key that does not parse',
      { cosign: [{ name: 'release', publicKey: 'not a key' }] },
      {},
      'InvalidKey',
      'signer "release": ',
    ],
    [
      'a notation trust store that does not parse',
      {
        notation: [
          { name: 'release', trustStore: { secretRef: { name: 'notation-ca' } }, trustedIdentities: ['*'] },
        ],
      },
      { 'apps/notation-ca': { 'ca.crt': 'not a certificate' } },
      'InvalidCertificate',
      'signer "release": the trust store does not parse: ',
    ],
  ])(
    '%s stalls (TrustMaterialMissing) with the policy error as cause',
    async (_what, verify, secrets, code, message) => {
      const w = worldWith({ secrets });
      const error = await refusal(w.checker.check(avWith(verify), artifactAt(), w.at(DIGEST)));
      expect(error.code).toBe('Stalled');
      expect(error.reason).toBe(Reason.TrustMaterialMissing);
      expect(policyCause(error)).toBe(code);
      expect(error.message.startsWith(message)).toBe(true);
      expect(w.requests).toEqual([]);
    },
  );

  it('a trusted_root.json that is not JSON stalls (TrustMaterialMissing, InvalidTrustedRoot)', async () => {
    const w = worldWith({ configMaps: { 'apps/sigstore-root': { 'trusted_root.json': '{not json' } } });
    const error = await refusal(
      w.checker.check(
        avWith({
          cosign: [
            {
              name: 'keyless',
              keyless: { issuer: 'https://token.actions.githubusercontent.com', subject: 'ci@example.com' },
              trustedRoot: { configMapRef: { name: 'sigstore-root' } },
            },
          ],
        }),
        artifactAt(),
        w.at(DIGEST),
      ),
    );
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(policyCause(error)).toBe('InvalidTrustedRoot');
    expect(error.message).toBe('signer "keyless": ConfigMap "sigstore-root" trusted_root.json is not JSON');
  });

  it('a keyless subjectRegex RE2 refuses is the spec’s fault: Stalled InvalidSpec', async () => {
    const w = worldWith();
    const error = await refusal(
      w.checker.check(
        avWith({
          cosign: [
            {
              name: 'keyless',
              keyless: {
                issuer: 'https://token.actions.githubusercontent.com',
                subjectRegex: '(?<=ci)@example',
              },
            },
          ],
        }),
        artifactAt(),
        w.at(DIGEST),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.InvalidSpec);
    expect(policyCause(error)).toBe('InvalidIdentityPattern');
    expect(w.reads).toEqual([]);
  });
});

describe('the verification cache', () => {
  // A spec.verify without signers requires nothing and needs no signature from the registry: the cache
  // is then observable without any registry I/O (onChecked counts the checks that were computed).
  const REQUIRES_NOTHING: VerifySpec = {};
  const REQUIRES_ONE: VerifySpec = { minSignatures: 1 };

  it('nothing to check (no spec.verify, scan off): an empty result, no reads, nothing computed', async () => {
    const w = worldWith();
    expect(await w.checker.check(avWith(undefined), artifactAt(), w.at(DIGEST))).toEqual({});
    expect(w.reads).toEqual([]);
    expect(w.checked).toEqual([]);
  });

  it('computes a digest once per policy; another CR with the same digest and policy is answered from the cache', async () => {
    const w = worldWith();
    const first = await w.checker.check(avWith(REQUIRES_NOTHING), artifactAt(), w.at(DIGEST));
    expect(first).toEqual({ verification: { digest: DIGEST, verdict: 'Trusted', reasons: [], signers: [] } });
    expect(w.checked).toHaveLength(1);

    const again = await w.checker.check(
      avWith(REQUIRES_NOTHING, 'payment-canary'),
      artifactAt(),
      w.at(DIGEST),
    );
    expect(again.verification).toBe(first.verification);
    expect(w.checked).toHaveLength(1);
    expect(w.requests).toEqual([]);
  });

  it('a new digest, policy or repository is a miss', async () => {
    const w = worldWith();
    await w.checker.check(avWith(REQUIRES_NOTHING), artifactAt(), w.at(DIGEST));

    const digest = await w.checker.check(avWith(REQUIRES_NOTHING), artifactAt(), w.at(OTHER_DIGEST));
    expect(digest.verification?.digest).toBe(OTHER_DIGEST);
    expect(w.checked).toHaveLength(2);

    const policy = await w.checker.check(avWith(REQUIRES_ONE), artifactAt(), w.at(DIGEST));
    expect(policy.verification).toEqual({
      digest: DIGEST,
      verdict: 'Untrusted',
      reasons: ['ThresholdNotMet'],
      signers: [],
    });
    expect(w.checked).toHaveLength(3);

    await w.checker.check(
      avWith(REQUIRES_NOTHING),
      artifactAt('oci://registry.example/charts/other'),
      w.at(DIGEST, artifactAt('oci://registry.example/charts/other')),
    );
    expect(w.checked).toHaveLength(4);
  });

  it('reverify computes again although the result is cached, and the fresh result is then the cached one', async () => {
    const w = worldWith();
    const first = await w.checker.check(avWith(REQUIRES_NOTHING), artifactAt(), w.at(DIGEST));

    const fresh = await w.checker.check(avWith(REQUIRES_NOTHING), artifactAt(), w.at(DIGEST), {
      reverify: true,
    });
    expect(fresh.verification).toEqual(first.verification);
    expect(fresh.verification).not.toBe(first.verification);
    expect(w.checked).toHaveLength(2);

    const after = await w.checker.check(avWith(REQUIRES_NOTHING), artifactAt(), w.at(DIGEST));
    expect(after.verification).toBe(fresh.verification);
    expect(w.checked).toHaveLength(2);
  });

  it('a result that depended on revocation data is looked at again within the hour', () => {
    expect(REVOCATION_RECHECK_MS).toBe(60 * 60 * 1000);
  });
});

describe('around the signature check and the scan (stand-ins for verifyArtifact and scanArtifact)', () => {
  const verdict = (digest: string, v: VerificationResult['verdict']): VerificationResult => ({
    digest,
    verdict: v,
    reasons: v === 'Error' ? ['RegistryError'] : [],
    signers: [],
  });

  /**
   * A verify stand-in answering `verdicts` in turn and recording the digest of each call. It asks the
   * revocation it is handed once, as a notation signer would: a reverify must hand it one that refreshes.
   */
  const verifying = (verdicts: VerificationResult['verdict'][]) => {
    const calls: string[] = [];
    const verify: NonNullable<ArtifactCheckerOptions['verify']> = async (
      _client,
      reference,
      _policy,
      options,
    ) => {
      calls.push(reference.digest);
      await options.revocation?.check([], { now: options.now() });
      return verdict(reference.digest, verdicts[calls.length - 1] ?? 'Trusted');
    };
    return { verify, calls };
  };

  const recordingRevocation = () => {
    const seen: CertCheckOptions[] = [];
    return {
      seen,
      revocation: {
        check: (_chain: unknown, options: CertCheckOptions) => {
          seen.push(options);
          return Promise.resolve({ status: 'ok' as const, details: [] });
        },
      },
    };
  };

  const scanning = (spec: ArtifactVerification['spec']['scan']): ArtifactVerification => ({
    ...avWith(undefined),
    spec: { ...avWith(undefined).spec, scan: spec ?? {} },
  });

  it('a scan error is the artifact’s problem, not an outage: problems, not failed, nothing rendered', async () => {
    const scan: NonNullable<ArtifactCheckerOptions['scan']> = () =>
      Promise.reject(new ScanError('InvalidArchive', 'not a gzip stream'));
    const w = worldWith({}, { scan });
    const result = await w.checker.check(scanning({}), artifactAt(), w.at(DIGEST));
    expect(result).toEqual({
      scan: { rendered: false, findings: [], failed: false, problems: ['InvalidArchive: not a gzip stream'] },
    });
  });

  it('a scan the stand-in completes is summarized and then answered from the cache', async () => {
    let scans = 0;
    const clean: ScanResult = {
      rendered: true,
      findings: [],
      suppressed: 0,
      failed: false,
      reasons: [],
      artifactKind: 'helm-chart',
    };
    const scan: NonNullable<ArtifactCheckerOptions['scan']> = (_client, reference) => {
      scans += 1;
      expect(reference).toEqual({
        registry: 'registry.example',
        repository: 'charts/payment',
        digest: DIGEST,
      });
      return Promise.resolve(clean);
    };
    const w = worldWith({}, { scan });
    const first = await w.checker.check(scanning({}), artifactAt(), w.at(DIGEST));
    expect(first.scan).toEqual({ rendered: true, findings: [], failed: false, problems: [] });
    await w.checker.check(scanning({}), artifactAt(), w.at(DIGEST));
    expect(scans).toBe(1);
  });

  it('an Error verdict is not cached: the next check verifies again, and its Trusted answer is then kept', async () => {
    const { verify, calls } = verifying(['Error', 'Trusted']);
    const w = worldWith({}, { verify });
    const first = await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST));
    expect(first.verification?.verdict).toBe('Error');
    const second = await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST));
    expect(second.verification?.verdict).toBe('Trusted');
    const third = await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST));
    expect(third.verification).toBe(second.verification);
    expect(calls).toEqual([DIGEST, DIGEST]);
    expect(w.checked).toHaveLength(2);
  });

  it('reverify bypasses a cached Trusted answer and asks revocation for fresh data; later checks use the cache again', async () => {
    const { verify, calls } = verifying(['Trusted', 'Trusted']);
    const { revocation, seen } = recordingRevocation();
    const w = worldWith({}, { verify, revocation });
    await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST));
    await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST));
    expect(calls).toHaveLength(1);

    await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST), { reverify: true });
    expect(calls).toHaveLength(2);
    expect(seen.map((o) => o.refresh === true)).toEqual([false, true]);

    await w.checker.check(avWith({}), artifactAt(), w.at(DIGEST));
    expect(calls).toHaveLength(2);
  });

  describe('provenance keyrings', () => {
    const provenanceSpec: VerifySpec = {
      provenance: [{ name: 'helm', keyring: { secretRef: { name: 'helm-keys' } } }],
    };
    /** A verify stand-in recording the policy and tag of each call. */
    const recording = () => {
      const calls: { policy: TrustPolicy; tag: string | undefined }[] = [];
      const verify: NonNullable<ArtifactCheckerOptions['verify']> = (_client, reference, policy, options) => {
        calls.push({ policy, tag: options.tag });
        return Promise.resolve(verdict(reference.digest, 'Trusted'));
      };
      return { verify, calls };
    };

    it('reads a binary keyring Secret as bytes (a UTF-8 decode would corrupt it) and hands the tag on', async () => {
      const key = await makeKey('release');
      const binary = key.publicKey.write();
      // An OpenPGP packet holds bytes above 0x7f that are not valid UTF-8 on their own.
      expect(Buffer.from(Buffer.from(binary).toString('utf8'), 'utf8').equals(Buffer.from(binary))).toBe(
        false,
      );
      const { verify, calls } = recording();
      const w = worldWith({ secrets: { 'apps/helm-keys': { 'pubring.gpg': binary } } }, { verify });
      const result = await w.checker.check(avWith(provenanceSpec), artifactAt(), w.at(DIGEST), {
        tag: '3.1.0',
      });
      expect(result.verification?.verdict).toBe('Trusted');
      expect(calls).toHaveLength(1);
      expect(calls[0]?.tag).toBe('3.1.0');
      expect(calls[0]?.policy.provenance?.[0]?.keyring.keys[0]?.getFingerprint()).toBe(
        key.publicKey.getFingerprint(),
      );
      expect(w.reads).toEqual(['Secret apps/helm-keys']);
    });

    it('verifies again when the keyring Secret is rotated or the tag changes, not otherwise', async () => {
      const [a, b] = await Promise.all([makeKey('a'), makeKey('b')]);
      const secrets: Record<string, Record<string, string | Uint8Array>> = {
        'apps/helm-keys': { 'a.asc': a.armored },
      };
      const { verify, calls } = recording();
      const w = worldWith({ secrets }, { verify });
      const check = (tag: string) =>
        w.checker.check(avWith(provenanceSpec), artifactAt(), w.at(DIGEST), { tag });
      await check('3.1.0');
      await check('3.1.0');
      expect(calls).toHaveLength(1);
      secrets['apps/helm-keys'] = { 'a.asc': b.armored };
      await check('3.1.0');
      expect(calls).toHaveLength(2);
      await check('3.2.0');
      expect(calls).toHaveLength(3);
    });

    it('a keyring Secret that is not public keys stalls (TrustMaterialMissing, InvalidKey) before any request', async () => {
      const w = worldWith({ secrets: { 'apps/helm-keys': { 'pubring.gpg': 'not a key' } } });
      const error = await refusal(w.checker.check(avWith(provenanceSpec), artifactAt(), w.at(DIGEST)));
      expect(error.code).toBe('Stalled');
      expect(error.reason).toBe(Reason.TrustMaterialMissing);
      expect(policyCause(error)).toBe('InvalidKey');
      expect(w.requests).toEqual([]);
    });

    it('a Secret used by a cosign entry and a provenance entry is read once, as text for one, bytes for the other', async () => {
      const key = await makeKey('release');
      const { verify, calls } = recording();
      const w = worldWith({ secrets: { 'apps/keys': { 'release.asc': key.armored } } }, { verify });
      const error = await refusal(
        w.checker.check(
          avWith({
            cosign: [{ name: 'cosign', secretRef: { name: 'keys' } }],
            provenance: [{ name: 'helm', keyring: { secretRef: { name: 'keys' } } }],
          }),
          artifactAt(),
          w.at(DIGEST),
        ),
      );
      // The cosign entry finds no *.pub key in it: the text side was read too.
      expect(policyCause(error)).toBe('MaterialMissing');
      expect(w.reads).toEqual(['Secret apps/keys']);
      expect(calls).toEqual([]);
    });
  });
});
