import { describe, expect, it } from 'vitest';
import {
  formatSubject,
  isSubsetDN,
  parseDistinguishedName,
  parseTrustedIdentities,
  subjectForMatching,
} from '../../../src/verify/notation/distinguished-name.ts';
import { NotationError } from '../../../src/verify/notation/errors.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof NotationError ? error.code : 'not a NotationError';
  }
};

const attrs = (pairs: [string, string][]): { oid: string; value: string }[] => {
  const oids: Record<string, string> = {
    C: '2.5.4.6',
    ST: '2.5.4.8',
    L: '2.5.4.7',
    O: '2.5.4.10',
    OU: '2.5.4.11',
    CN: '2.5.4.3',
    emailAddress: '1.2.840.113549.1.9.1',
  };
  return pairs.map(([type, value]) => ({ oid: oids[type] ?? type, value }));
};

describe('parseDistinguishedName (x509.subject values)', () => {
  it.each([
    [
      'C=US, ST=WA, L=Seattle, O=Acme, CN=release',
      { C: 'US', ST: 'WA', L: 'Seattle', O: 'Acme', CN: 'release' },
    ],
    ['CN=release,O=Acme,ST=WA,C=US', { CN: 'release', O: 'Acme', ST: 'WA', C: 'US' }],
    ['C=US; S=WA; O=Acme', { C: 'US', ST: 'WA', O: 'Acme' }],
    ['C=US, ST=WA, O=Acme\\, Inc.', { C: 'US', ST: 'WA', O: 'Acme, Inc.' }],
    ['C=US, ST=WA, O=\\41cme', { C: 'US', ST: 'WA', O: 'Acme' }],
    ['C=US, ST=WA, O=Acme\\20', { C: 'US', ST: 'WA', O: 'Acme ' }],
    ['  C = US ,ST=WA,   O=  Acme Corp  ', { C: 'US', ST: 'WA', O: 'Acme Corp' }],
    ['C=US, ST=WA, O=Ac\\C3\\A9me', { C: 'US', ST: 'WA', O: 'Acéme' }],
  ])('parses %j', (name, expected) => {
    expect(Object.fromEntries(parseDistinguishedName(name))).toEqual(expected);
  });

  it.each([
    ['missing ST', 'C=US, O=Acme, CN=release'],
    ['missing C', 'ST=WA, O=Acme'],
    ['missing O', 'C=US, ST=WA, CN=release'],
    ['a multi-valued RDN', 'C=US, ST=WA, O=Acme+OU=Build'],
    ['a repeated attribute', 'C=US, ST=WA, O=Acme, O=Other'],
    ['S and ST both', 'C=US, ST=WA, S=OR, O=Acme'],
    ['a hex-encoded value', 'C=US, ST=WA, O=#0403414243'],
    ['no =', 'C=US, ST=WA, Acme'],
    ['an empty string', ''],
    ['a trailing separator', 'C=US, ST=WA, O=Acme,'],
    ['a dangling escape', 'C=US, ST=WA, O=Acme\\'],
  ])('rejects a DN with %s', (_why, name) => {
    expect(codeOf(() => parseDistinguishedName(name))).toBe('InvalidTrustedIdentity');
  });
});

describe('trusted identity matching (every attribute of the identity, same value, in the leaf)', () => {
  const leaf = subjectForMatching(
    attrs([
      ['C', 'US'],
      ['ST', 'WA'],
      ['L', 'Seattle'],
      ['O', 'Acme'],
      ['OU', 'Build'],
      ['CN', 'release'],
    ]),
  );

  it.each([
    ['the full subject', 'C=US, ST=WA, L=Seattle, O=Acme, OU=Build, CN=release', true],
    ['the mandatory attributes only', 'C=US, ST=WA, O=Acme', true],
    ['a different attribute order', 'CN=release, O=Acme, ST=WA, C=US', true],
    ['S as an alias of ST', 'C=US, S=WA, O=Acme, CN=release', true],
    ['another CN', 'C=US, ST=WA, O=Acme, CN=nightly', false],
    ['another organisation', 'C=US, ST=WA, O=Evil', false],
    ['a value in another case', 'C=US, ST=WA, O=acme', false],
    ['an attribute the leaf lacks', 'C=US, ST=WA, O=Acme, STREET=Main', false],
    ['a value prefix only', 'C=US, ST=WA, O=Acm', false],
  ])('%s: %j → %s', (_why, identity, matches) => {
    expect(isSubsetDN(parseDistinguishedName(identity), leaf)).toBe(matches);
  });

  it.each([
    [
      'an attribute Go does not name (emailAddress)',
      [
        ['C', 'US'],
        ['ST', 'WA'],
        ['O', 'Acme'],
        ['emailAddress', 'a@b.c'],
      ],
    ],
    [
      'a repeated attribute',
      [
        ['C', 'US'],
        ['ST', 'WA'],
        ['O', 'Acme'],
        ['OU', 'a'],
        ['OU', 'b'],
      ],
    ],
    [
      'no ST',
      [
        ['C', 'US'],
        ['O', 'Acme'],
        ['CN', 'x'],
      ],
    ],
    [
      'a value containing =#',
      [
        ['C', 'US'],
        ['ST', 'WA'],
        ['O', 'a=#b'],
      ],
    ],
  ] as [string, [string, string][]][])('a leaf subject with %s matches no DN identity', (_why, pairs) => {
    expect(codeOf(() => subjectForMatching(attrs(pairs)))).toBe('InvalidTrustedIdentity');
  });

  it('formats the subject in certificate order with RFC 4514 escapes', () => {
    expect(
      formatSubject(
        attrs([
          ['C', 'US'],
          ['O', 'Acme, Inc.'],
          ['CN', ' lead'],
        ]),
      ),
    ).toBe('C=US, O=Acme\\, Inc., CN=\\ lead');
  });
});

describe('parseTrustedIdentities (trust policy statement rules)', () => {
  it('accepts the wildcard alone', () => {
    expect(parseTrustedIdentities(['*'])).toEqual({ wildcard: true, subjects: [] });
  });

  it('keeps only x509.subject identities (others belong to plugins)', () => {
    const parsed = parseTrustedIdentities(['x509.subject: C=US, ST=WA, O=Acme', 'kms.arn:aws:kms:key/1']);
    expect(parsed.wildcard).toBe(false);
    expect(parsed.subjects.map((dn) => dn.get('O'))).toEqual(['Acme']);
  });

  it.each([
    ['the wildcard with another identity', ['*', 'x509.subject: C=US, ST=WA, O=Acme']],
    ['an empty identity', ['']],
    ['no prefix separator', ['C=US, ST=WA, O=Acme']],
    ['an empty x509.subject', ['x509.subject:  ']],
    [
      'overlapping identities',
      ['x509.subject: C=US, ST=WA, O=Acme', 'x509.subject: C=US, ST=WA, O=Acme, CN=release'],
    ],
    ['no x509.subject identity at all', ['kms.arn:aws:kms:key/1']],
    ['an empty list', []],
    ['an invalid DN', ['x509.subject: CN=release']],
  ])('rejects %s', (_why, identities) => {
    expect(codeOf(() => parseTrustedIdentities(identities))).toBe('InvalidTrustedIdentity');
  });
});
