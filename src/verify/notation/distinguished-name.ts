// Trusted identities as the Notary Project trust-policy spec defines them: `*` or `x509.subject: <DN>`,
// where the DN (RFC 4514) must name C, ST (or S) and O, has no multi-valued or repeated attributes, and
// matches a signing certificate when every attribute it names has the same value in the leaf's subject.
// The leaf is read the way notation-go reads it (Go's pkix.Name.String() re-parsed), so a subject with
// attributes Go does not name (e.g. emailAddress) or a repeated attribute matches no DN identity.
import { NotationError } from './errors.ts';

/** Attribute type → value, e.g. { C: 'US', ST: 'WA', O: 'Acme' }. */
export type DistinguishedName = ReadonlyMap<string, string>;

export interface SubjectAttribute {
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  readonly value: string;
}

export interface TrustedIdentities {
  /** `*`: any identity whose chain reaches the trust store. */
  readonly wildcard: boolean;
  /** The x509.subject identities, parsed. */
  readonly subjects: readonly DistinguishedName[];
}

export const WILDCARD_IDENTITY = '*';
const X509_SUBJECT = 'x509.subject';
const MANDATORY = ['C', 'ST', 'O'] as const;

/** The attribute types Go's crypto/x509/pkix names; others are rendered as `<oid>=#<hex>`. */
const GO_NAMED_TYPES: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C',
  '2.5.4.8': 'ST',
  '2.5.4.7': 'L',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
};

/** Short names used when displaying a subject (a superset of Go's). */
const DISPLAY_TYPES: Readonly<Record<string, string>> = {
  ...GO_NAMED_TYPES,
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

const invalid = (message: string): NotationError => new NotationError('InvalidTrustedIdentity', message);

const hexValue = (text: string, at: number): number | undefined => {
  const pair = text.slice(at, at + 2);
  return /^[0-9a-fA-F]{2}$/.test(pair) ? Number.parseInt(pair, 16) : undefined;
};

/** Splits an RFC 4514 string into RDNs of (type, value) attributes, unescaping values. */
const parseRfc4514 = (name: string): { type: string; value: string }[][] => {
  const rdns: { type: string; value: string }[][] = [];
  let rdn: { type: string; value: string }[] = [];
  let type = '';
  let value: number[] = [];
  let inValue = false;
  let trailingSpaces = 0; // unescaped spaces at the end of the current value, trimmed
  const flushAttribute = (): void => {
    const attrType = type.trim();
    if (!inValue || attrType === '') throw invalid(`DN ${JSON.stringify(name)}: attribute without a type`);
    const bytes = value.slice(0, value.length - trailingSpaces);
    rdn.push({ type: attrType, value: Buffer.from(bytes).toString('utf8') });
    type = '';
    value = [];
    inValue = false;
    trailingSpaces = 0;
  };
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] ?? '';
    if (!inValue) {
      if (ch === '=') inValue = true;
      else if (ch === ',' || ch === '+' || ch === ';' || ch === '\\')
        throw invalid(`DN ${JSON.stringify(name)}: unexpected ${JSON.stringify(ch)} in an attribute type`);
      else type += ch;
      continue;
    }
    if (ch === '\\') {
      const hex = hexValue(name, i + 1);
      if (hex !== undefined) {
        value.push(hex);
        i += 2;
      } else if (i + 1 < name.length) {
        value.push(...Buffer.from(name[i + 1] ?? '', 'utf8'));
        i += 1;
      } else throw invalid(`DN ${JSON.stringify(name)}: dangling escape`);
      trailingSpaces = 0;
      continue;
    }
    if (ch === ',' || ch === ';' || ch === '+') {
      flushAttribute();
      if (ch !== '+') {
        rdns.push(rdn);
        rdn = [];
      }
      continue;
    }
    if (ch === ' ' && value.length === 0) continue; // leading unescaped spaces are not part of the value
    value.push(...Buffer.from(ch, 'utf8'));
    trailingSpaces = ch === ' ' ? trailingSpaces + 1 : 0;
  }
  if (type.trim() !== '' || inValue) {
    flushAttribute();
    rdns.push(rdn);
  } else if (rdn.length > 0 || rdns.length > 0) {
    throw invalid(`DN ${JSON.stringify(name)}: ends with a separator`);
  }
  return rdns;
};

/** notation-go's rules on top of RFC 4514: no `=#`, single-valued RDNs, no repeats, C/ST/O present. */
const toDistinguishedName = (name: string, rdns: { type: string; value: string }[][]): DistinguishedName => {
  const dn = new Map<string, string>();
  for (const rdn of rdns) {
    if (rdn.length > 1)
      throw invalid(`DN ${JSON.stringify(name)} has a multi-valued RDN, which is not supported`);
    for (const { type, value } of rdn) {
      const key = type === 'S' ? 'ST' : type;
      if (dn.get(key)) throw invalid(`DN ${JSON.stringify(name)} repeats the attribute ${key}`);
      dn.set(key, value);
    }
  }
  for (const field of MANDATORY) {
    if (!dn.get(field))
      throw invalid(`DN ${JSON.stringify(name)} must contain C, ST (or S) and O; ${field} is missing`);
  }
  return dn;
};

/** Parses the DN of an `x509.subject:` identity. */
export const parseDistinguishedName = (name: string): DistinguishedName => {
  if (name.includes('=#'))
    throw invalid(`DN ${JSON.stringify(name)}: hex-encoded (=#) values are not supported`);
  return toDistinguishedName(name, parseRfc4514(name));
};

/** True when every attribute of `trusted` has the same value in `subject`. */
export const isSubsetDN = (trusted: DistinguishedName, subject: DistinguishedName): boolean =>
  [...trusted].every(([key, value]) => subject.get(key) === value);

/**
 * The leaf subject as notation-go compares it, or the reason it cannot match any DN identity. Go
 * folds repeated attributes of one type into a multi-valued RDN and renders unnamed types with `=#`;
 * notation rejects both.
 */
export const subjectForMatching = (attributes: readonly SubjectAttribute[]): DistinguishedName => {
  const rdns: { type: string; value: string }[][] = [];
  const seen = new Set<string>();
  for (const { oid, value } of attributes) {
    const type = GO_NAMED_TYPES[oid];
    if (!type)
      throw invalid(`the signing certificate's subject has attribute ${oid}, which notation cannot match`);
    if (seen.has(type)) throw invalid(`the signing certificate's subject repeats ${type}`);
    if (value.includes('=#')) throw invalid(`the signing certificate's subject contains "=#"`);
    seen.add(type);
    rdns.push([{ type, value }]);
  }
  return toDistinguishedName('<signing certificate subject>', rdns);
};

const escapeValue = (value: string): string =>
  value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');

/** The subject in certificate order, e.g. "C=US, ST=WA, O=Acme, CN=release" (the form users paste). */
export const formatSubject = (attributes: readonly SubjectAttribute[]): string =>
  attributes.map(({ oid, value }) => `${DISPLAY_TYPES[oid] ?? oid}=${escapeValue(value)}`).join(', ');

/**
 * Validates and parses a trustedIdentities list as notation validates a trust policy statement:
 * `*` alone, or `prefix:value` entries; `x509.subject` values are DNs that must not overlap. Other
 * prefixes are kept out (notation hands them to plugins, which tagguard does not run).
 */
export const parseTrustedIdentities = (identities: readonly string[]): TrustedIdentities => {
  if (identities.includes(WILDCARD_IDENTITY)) {
    if (identities.length > 1)
      throw invalid("the wildcard identity '*' cannot be combined with other identities");
    return { wildcard: true, subjects: [] };
  }
  const subjects: DistinguishedName[] = [];
  for (const identity of identities) {
    if (identity === '') throw invalid('empty trusted identity');
    const colon = identity.indexOf(':');
    if (colon < 0) throw invalid(`trusted identity ${JSON.stringify(identity)} has no "prefix:" separator`);
    const prefix = identity.slice(0, colon);
    const value = identity.slice(colon + 1);
    if (prefix !== X509_SUBJECT) continue;
    if (value.trim() === '') throw invalid(`trusted identity ${JSON.stringify(identity)} has no value`);
    subjects.push(parseDistinguishedName(value));
  }
  subjects.forEach((a, i) =>
    subjects.forEach((b, j) => {
      if (i !== j && isSubsetDN(a, b))
        throw invalid('trusted identities overlap: one DN is a subset of another');
    }),
  );
  if (subjects.length === 0) throw invalid('no x509.subject trusted identity is configured');
  return { wildcard: false, subjects };
};
