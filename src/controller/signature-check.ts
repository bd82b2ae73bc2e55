// The signatures of one digest, fetched and then judged: the registry reads them (registry/signature-fetch.ts),
// verify/ judges the material with no registry I/O of its own. Referrers first, then the legacy `.sig` tag
// only for cosign entries the referrers did not satisfy. Fails closed: a registry failure while fetching
// is the verdict Error (RegistryError for every signer), never an exception. A policy with Helm provenance
// entries also reads the digest's manifest as a chart (its config and `.prov` layer).
import type { RegistryClient } from '../registry/client.ts';
import { isRegistryError } from '../registry/errors.ts';
import { isHelmRepositoryError } from '../registry/helm-repository/errors.ts';
import type { DigestReference } from '../registry/reference.ts';
import { registrySignatures, type SignatureFetcher } from '../registry/signature-fetch.ts';
import type { ReferrerSignatures } from '../registry/stored-signatures.ts';
import type { ChainRevocation } from '../verify/notation/revocation/revocation.ts';
import { ociChartProvenance } from '../verify/provenance/oci-chart.ts';
import { httpChartProvenance, type HttpChartFiles } from '../verify/provenance/http-chart.ts';
import { NO_SIGNATURES, signatureMaterial } from '../verify/signature-material.ts';
import type {
  SignatureMaterial,
  TrustPolicy,
  VerificationResult,
  VerificationTarget,
} from '../verify/types.ts';
import {
  registryFailure,
  signerEntries,
  verify,
  wantsLegacySignatures,
  type VerifyDeps,
} from '../verify/verify.ts';

export interface SignatureCheckOptions {
  readonly now: () => Date;
  /** OCSP / CRL of Notary Project chains. */
  readonly revocation?: ChainRevocation;
  /** The tag the consumer follows, when known: a Helm chart's provenance must be for its version. */
  readonly tag?: string | undefined;
  /** The repository path (`charts/payment`) whose last segment is the chart's name; default: the target's. */
  readonly repositoryPath?: string;
}

const NO_REFERRERS: ReferrerSignatures = { bundles: [], notation: [] };

/** host[:port]/path → path (a registry host holds no `/`). */
const pathOf = (repository: string): string => repository.slice(repository.indexOf('/') + 1);

/**
 * Fetches through `fetcher` what the policy can use and judges it. The trust material is parsed before
 * anything is fetched: unusable material throws TrustPolicyError (the caller's stalling error).
 */
export const checkSignatures = async (
  fetcher: SignatureFetcher,
  target: Pick<VerificationTarget, 'repository' | 'digest'>,
  policy: TrustPolicy,
  options: SignatureCheckOptions,
): Promise<VerificationResult> => {
  const deps: VerifyDeps = {
    now: options.now(),
    ...(options.revocation ? { revocation: options.revocation } : {}),
  };
  if (signerEntries(policy).length === 0) return verify(NO_SIGNATURES, policy, target, deps);
  try {
    // Notation signs the target's media type and size: read (and re-hash) its manifest only for it.
    const wantsReferrers = policy.cosign.length + policy.notation.length > 0;
    const [referrers, chart] = await Promise.all([
      // A provenance-only policy reads no referrers: the `.prov` is a layer of the chart itself.
      wantsReferrers
        ? fetcher.referrers({
            target: policy.notation.length > 0,
            bundles: policy.cosign.length > 0,
            notation: policy.notation.length > 0,
          })
        : NO_REFERRERS,
      (policy.provenance ?? []).length > 0 ? fetcher.chart() : undefined,
    ]);
    const judged: VerificationTarget = { ...target, ...referrers.target };
    const withChart = (material: SignatureMaterial): SignatureMaterial =>
      chart === undefined
        ? material
        : {
            ...material,
            chartProvenance: ociChartProvenance(
              chart,
              options.repositoryPath ?? pathOf(target.repository),
              options.tag,
            ),
          };
    const first = await verify(withChart(signatureMaterial(referrers)), policy, judged, deps);
    // The common case costs one request less; a legacy-only artifact one round trip more.
    if (!wantsLegacySignatures(first)) return first;
    const legacy = await fetcher.legacy();
    return await verify(withChart(signatureMaterial(referrers, legacy)), policy, judged, deps, first);
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    return registryFailure(policy, target.digest, `${error.code}: ${error.message}`);
  }
};

/** The signatures of the digest `reference` names, in its repository, read through `client` and judged. */
export const verifyArtifact = (
  client: RegistryClient,
  reference: DigestReference,
  policy: TrustPolicy,
  options: SignatureCheckOptions,
): Promise<VerificationResult> =>
  checkSignatures(
    registrySignatures(client, reference),
    { repository: `${reference.registry}/${reference.repository}`, digest: reference.digest },
    policy,
    { ...options, repositoryPath: reference.repository },
  );

/**
 * A chart of an HTTP(S) Helm repository: such a repository carries no cosign or notation signatures (those
 * signers find none), only the `.prov` beside the archive. `files` fetches the archive (re-hashed against
 * the index digest) and the `.prov`, only when the policy has provenance entries. Fails closed as
 * checkSignatures: a failure while fetching is the verdict Error; bytes other than the index names are
 * Untrusted (DigestMismatch, the message naming ChartDigestMismatch).
 */
export const verifyHelmChart = async (
  files: () => Promise<HttpChartFiles>,
  target: Pick<VerificationTarget, 'repository' | 'digest'>,
  policy: TrustPolicy,
  options: SignatureCheckOptions,
): Promise<VerificationResult> => {
  const deps: VerifyDeps = {
    now: options.now(),
    ...(options.revocation ? { revocation: options.revocation } : {}),
  };
  if ((policy.provenance ?? []).length === 0) return verify(NO_SIGNATURES, policy, target, deps);
  try {
    const chartProvenance = httpChartProvenance(await files());
    return await verify({ ...NO_SIGNATURES, chartProvenance }, policy, target, deps);
  } catch (error) {
    if (!isRegistryError(error) && !isHelmRepositoryError(error)) throw error;
    const failure = registryFailure(policy, target.digest, `${error.code}: ${error.message}`);
    if (!isHelmRepositoryError(error, 'ChartDigestMismatch')) return failure;
    // The repository serves other bytes than the digest names: not an outage but a verdict, also on a
    // digest trusted before (an Error there would leave the swapped archive deployable: fail-closed.ts).
    return {
      ...failure,
      verdict: 'Untrusted',
      reasons: ['DigestMismatch'],
      signers: failure.signers.map((s) => ({ ...s, reason: 'DigestMismatch' })),
    };
  }
};
