// The payload cosign signs for a legacy signature ("simple signing"): what it claims to be about.
// Only the fields trust depends on are read; the docker-reference is informative and never trusted.

import { parseSignedJson } from '../signed-json.ts';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export type SimpleSigningClaim =
  | { readonly ok: true; readonly digest: string; readonly dockerReference: string | undefined }
  | { readonly ok: false; readonly message: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The names cosign's payload.SimpleContainerImage decodes (Go's encoding/json, case-insensitively). */
const FIELDS = [
  'critical',
  'identity',
  'docker-reference',
  'image',
  'docker-manifest-digest',
  'type',
  'optional',
];

export const parseSimpleSigning = (payload: Buffer): SimpleSigningClaim => {
  const parsed = parseSignedJson(payload.toString('utf8'), FIELDS);
  if (!parsed.ok) return { ok: false, message: parsed.message.replace('signed document', 'signed payload') };
  const doc = parsed.value;
  const critical = isRecord(doc) ? doc.critical : undefined;
  if (!isRecord(critical) || critical.type !== SIMPLE_SIGNING_TYPE)
    return { ok: false, message: 'the signed payload is not a cosign simple-signing document' };
  const image = isRecord(critical.image) ? critical.image['docker-manifest-digest'] : undefined;
  if (typeof image !== 'string')
    return { ok: false, message: 'the signed payload names no docker-manifest-digest' };
  const identity = isRecord(critical.identity) ? critical.identity['docker-reference'] : undefined;
  return { ok: true, digest: image, dockerReference: typeof identity === 'string' ? identity : undefined };
};
