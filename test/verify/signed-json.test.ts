import { describe, expect, it } from 'vitest';
import { goFoldName, parseSignedJson } from '../../src/verify/signed-json.ts';
import { parseSimpleSigning } from '../../src/verify/cosign/simple-signing.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const FIELDS = ['critical', 'image', 'docker-manifest-digest', 'type'];

describe('goFoldName (Go encoding/json key folding)', () => {
  it.each([
    ['docker-manifest-digest', 'DOCKER-MANIFEST-DIGEST'],
    ['Docker-Manifest-Digest', 'DOCKER-MANIFEST-DIGEST'],
    ['docker-manifeſt-digeſt', 'DOCKER-MANIFEST-DIGEST'], // long s folds to S
    ['\u212Aey', 'KEY'], // Kelvin sign folds to K
    ['ımage', 'IMAGE'], // dotless i
    ['éa', 'éA'], // other runes stay as they are
  ])('%s → %s', (name, folded) => {
    expect(goFoldName(name)).toBe(folded);
  });
});

describe('parseSignedJson refuses what Go could read differently', () => {
  it('accepts a plain document', () => {
    const parsed = parseSignedJson(
      JSON.stringify({ critical: { image: { 'docker-manifest-digest': A } } }),
      FIELDS,
    );
    expect(parsed).toEqual({ ok: true, value: { critical: { image: { 'docker-manifest-digest': A } } } });
  });
  it.each([
    [
      'an exact duplicate key',
      `{"critical":{"image":{"docker-manifest-digest":"${A}","docker-manifest-digest":"${B}"}}}`,
    ],
    [
      'a key repeated in another letter case',
      `{"critical":{"image":{"docker-manifest-digest":"${A}","DOCKER-manifest-digest":"${B}"}}}`,
    ],
    ['a field spelled with a long s', `{"critical":{"image":{"docker-manifeſt-digeſt":"${B}"}}}`],
    [
      'a field spelled with an escaped capital',
      `{"critical":{"image":{"\\u0044ocker-manifest-digest":"${B}"}}}`,
    ],
    ['a duplicate deep inside an array', `{"critical":{"type":"x"},"optional":[{"k":1,"k":2}]}`],
  ])('%s', (_name, text) => {
    expect(parseSignedJson(text, FIELDS).ok).toBe(false);
  });
  it('refuses an alias spelling (protojson original field names)', () => {
    expect(parseSignedJson('{"predicate_type":"x"}', ['predicateType'], ['predicate_type']).ok).toBe(false);
  });
  it('does not take keys for values: strings that look like keys inside values are fine', () => {
    const text = '{"type":"{\\"type\\":1,\\"type\\":2}","list":["type","type"]}';
    expect(parseSignedJson(text, FIELDS).ok).toBe(true);
  });
  it('is linear on a deeply nested document (no recursion)', () => {
    const text = `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`;
    expect(() => parseSignedJson(text, FIELDS)).not.toThrow();
  });
});

describe('the cosign simple-signing payload', () => {
  const payload = (image: string): Buffer =>
    Buffer.from(
      `{"critical":{"identity":{"docker-reference":"r"},"image":${image},"type":"cosign container image signature"},"optional":null}`,
    );
  it('reads the digest of a plain payload', () => {
    expect(parseSimpleSigning(payload(`{"docker-manifest-digest":"${A}"}`))).toMatchObject({
      ok: true,
      digest: A,
    });
  });
  it('refuses a payload whose digest key is repeated in another case (cosign would read the last one)', () => {
    expect(
      parseSimpleSigning(payload(`{"docker-manifest-digest":"${A}","Docker-Manifest-Digest":"${B}"}`)).ok,
    ).toBe(false);
  });
});
