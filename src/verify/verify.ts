// Judges one digest's signature material against a TrustPolicy: one Verifier per signer entry, then
// minSignatures. No registry I/O: the caller fetches the material (src/registry/signature-fetch.ts, composed
// in src/controller/signature-check.ts), gives the clock, and the revocation checker is its only I/O. A
// policy whose trust material is unusable throws TrustPolicyError; signature bytes never throw from here.
import { CosignVerifier } from './cosign/cosign-verifier.ts';
import { NotationSignerVerifier } from './notation-signer.ts';
import { ProvenanceSignerVerifier } from './provenance-signer.ts';
import { evaluatePolicy } from './evaluate-policy.ts';
import type { Verifier, VerifierIo } from './verifier.ts';
import type {
  SignatureMaterial,
  SignerResult,
  TrustPolicy,
  VerificationResult,
  VerificationTarget,
} from './types.ts';

export interface VerifyDeps {
  /** The verifier's clock. */
  readonly now: Date;
  /** OCSP / CRL of Notary Project chains; without one, revocation is reported as not checked. */
  readonly revocation?: VerifierIo['revocation'];
}

const verifiersCache = new WeakMap<TrustPolicy, readonly Verifier[]>();

/** One Verifier per signer entry, built (and its trust material parsed) once per policy object. */
const verifiersFor = (policy: TrustPolicy): readonly Verifier[] => {
  const cached = verifiersCache.get(policy);
  if (cached) return cached;
  const verifiers: Verifier[] = [
    ...policy.cosign.map((trust) => new CosignVerifier(trust)),
    ...policy.notation.map((trust) => new NotationSignerVerifier(trust)),
    ...(policy.provenance ?? []).map((trust) => new ProvenanceSignerVerifier(trust)),
  ];
  verifiersCache.set(policy, verifiers);
  return verifiers;
};

/**
 * The policy's signer entries, in the order of the results. Parses the trust material (once per policy
 * object) and throws TrustPolicyError when it is unusable, so a caller learns that before fetching.
 */
export const signerEntries = (policy: TrustPolicy): readonly Pick<Verifier, 'name' | 'type'>[] =>
  verifiersFor(policy).map(({ name, type }) => ({ name, type }));

/** Whether legacy `.sig` signatures could still change the result: a cosign entry did not verify. */
export const wantsLegacySignatures = (result: VerificationResult): boolean =>
  result.signers.some((s) => s.type === 'cosign' && !s.verified);

/**
 * The verdict of `material` for `target`. `earlier`, a result for the same target and policy from part
 * of this material (the referrers, before the legacy `.sig` tag was read), keeps its Notation results and
 * its verified cosign ones: only cosign entries that did not verify are judged again.
 */
export const verify = async (
  material: SignatureMaterial,
  policy: TrustPolicy,
  target: VerificationTarget,
  deps: VerifyDeps,
  earlier?: VerificationResult,
): Promise<VerificationResult> => {
  const io: VerifierIo = deps.revocation ? { revocation: deps.revocation } : {};
  const signers = await Promise.all(
    verifiersFor(policy).map(async (v, i): Promise<SignerResult> => {
      const before = earlier?.signers[i];
      return before && (v.type !== 'cosign' || before.verified)
        ? before
        : v.verify(target, material, deps.now, io);
    }),
  );
  return evaluatePolicy(target.digest, signers, policy.minSignatures);
};

/** The verdict when the material could not be fetched: Error, and RegistryError for every signer entry. */
export const registryFailure = (
  policy: TrustPolicy,
  digest: string,
  message: string,
): VerificationResult => ({
  digest,
  verdict: 'Error',
  reasons: ['RegistryError'],
  signers: verifiersFor(policy).map((v) => ({
    name: v.name,
    type: v.type,
    verified: false,
    reason: 'RegistryError',
    message,
  })),
});
