// One `verify.provenance` entry judged against a chart and its `.prov` as fetched, whatever the repository
// kind (ChartProvenance in src/verify/types.ts: an OCI chart's layers, or later an HTTP repository's
// archive and `.prov`) → a SignerResult that counts toward minSignatures like a cosign or notation one.
import type { ChartProvenance, ProvenanceTrust, SignerResult, VerifyReason } from '../types.ts';
import { MAX_PROVENANCE_BYTES } from './parse-provenance.ts';
import type { ProvenanceReason } from './provenance-types.ts';
import { coarseReason, verifyProvenance } from './verify-provenance.ts';

const failed = (
  trust: ProvenanceTrust,
  reason: VerifyReason,
  message: string,
  identity?: string,
): SignerResult => ({
  name: trust.name,
  type: 'provenance',
  format: 'provenance',
  verified: false,
  reason,
  message,
  ...(identity === undefined ? {} : { identity }),
});

/** The fine reason stays in the message (`ProvenanceUnknownSigner: …`); the result carries the coarse one. */
const provenanceFailure = (
  trust: ProvenanceTrust,
  reason: ProvenanceReason,
  message: string,
  identity?: string,
): SignerResult => failed(trust, coarseReason(reason), `${reason}: ${message}`, identity);

export const judgeChartProvenance = async (
  chart: ChartProvenance | undefined,
  trust: ProvenanceTrust,
  now: Date,
): Promise<SignerResult> => {
  if (chart === undefined)
    return failed(trust, 'SignatureMissing', 'no Helm chart was read for this artifact');
  if (chart.kind === 'refused')
    return chart.reason === 'SignatureMissing'
      ? failed(trust, 'SignatureMissing', chart.why)
      : provenanceFailure(trust, chart.reason, chart.why);
  if (chart.tooLarge !== undefined)
    return provenanceFailure(
      trust,
      'ProvenanceTooLarge',
      `the provenance has ${chart.tooLarge} bytes, more than ${MAX_PROVENANCE_BYTES}`,
    );
  if (chart.provenance === undefined)
    return failed(
      trust,
      'SignatureMissing',
      `${chart.expected.name} ${chart.expected.version} has no provenance (.prov)`,
    );
  const result = await verifyProvenance({
    name: trust.name,
    provenance: chart.provenance,
    archive: { digest: chart.archiveDigest },
    expected: chart.expected,
    keyring: trust.keyring,
    now,
  });
  if (result.verified)
    return {
      name: trust.name,
      type: 'provenance',
      format: 'provenance',
      verified: true,
      message: result.message,
      ...(result.identity === undefined ? {} : { identity: result.identity }),
    };
  return provenanceFailure(
    trust,
    result.reason ?? 'ProvenanceSignatureInvalid',
    result.message,
    result.identity,
  );
};
