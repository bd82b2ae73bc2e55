// A minimal, bounded DER reader: just enough ASN.1 to read what node:crypto's X509Certificate does not
// expose (subject RDNs, extension criticality, key usage bits, path length). Every length is checked
// against the bytes that remain; indefinite lengths and lengths over 4 bytes are refused.
import { NotationError } from './errors.ts';

export interface DerNode {
  /** The full identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  /** Header and content. */
  readonly raw: Buffer;
  readonly content: Buffer;
}

export const DER = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const malformed = (what: string): NotationError =>
  new NotationError('MalformedCertificate', `malformed DER: ${what}`);

/** Reads one TLV at `offset`; returns the node and the offset after it. */
export const readDer = (buf: Buffer, offset = 0): { node: DerNode; next: number } => {
  if (offset + 2 > buf.length) throw malformed('truncated header');
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw malformed('high tag numbers are not supported');
  let length = buf[offset + 1] ?? 0;
  let header = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw malformed('unsupported length encoding');
    if (offset + 2 + bytes > buf.length) throw malformed('truncated length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
    header += bytes;
  }
  const end = offset + header + length;
  if (end > buf.length) throw malformed('length beyond the end of the data');
  return {
    node: { tag, raw: buf.subarray(offset, end), content: buf.subarray(offset + header, end) },
    next: end,
  };
};

/** The children of a constructed node. */
export const derChildren = (node: DerNode): DerNode[] => {
  if ((node.tag & 0x20) === 0) throw malformed('expected a constructed value');
  const children: DerNode[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const { node: child, next } = readDer(node.content, offset);
    children.push(child);
    offset = next;
  }
  return children;
};

/** Parses a whole buffer as exactly one DER value. */
export const parseDer = (buf: Buffer): DerNode => {
  const { node, next } = readDer(buf);
  if (next !== buf.length) throw malformed('trailing data');
  return node;
};

export const decodeOid = (node: DerNode): string => {
  if (node.tag !== DER.OID || node.content.length === 0) throw malformed('expected an OBJECT IDENTIFIER');
  const parts: number[] = [];
  let value = 0;
  for (const byte of node.content) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw malformed('OID component too large');
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  if ((node.content[node.content.length - 1] ?? 0) & 0x80) throw malformed('truncated OID');
  const [first = 0, ...rest] = parts;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...rest].join('.');
};

/** A small non-negative INTEGER (path lengths). */
export const decodeSmallInteger = (node: DerNode): number => {
  if (node.tag !== DER.INTEGER || node.content.length === 0 || node.content.length > 4)
    throw malformed('expected a small INTEGER');
  if ((node.content[0] ?? 0) & 0x80) throw malformed('negative INTEGER');
  return node.content.reduce((acc, byte) => acc * 256 + byte, 0);
};

/** The named bits of a BIT STRING, bit 0 first. */
export const decodeBitString = (node: DerNode): boolean[] => {
  if (node.tag !== DER.BIT_STRING || node.content.length === 0) throw malformed('expected a BIT STRING');
  const unused = node.content[0] ?? 0;
  if (unused > 7) throw malformed('invalid BIT STRING padding');
  const bits: boolean[] = [];
  const data = node.content.subarray(1);
  for (let i = 0; i < data.length * 8 - unused; i++)
    bits.push((((data[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1);
  return bits;
};

/** Decodes the ASN.1 string types that appear in X.509 names. */
export const decodeDirectoryString = (node: DerNode): string => {
  switch (node.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
      return node.content.toString('utf8');
    case 0x14: // TeletexString: treated as Latin-1, as Go does
      return node.content.toString('latin1');
    case 0x1e: {
      // BMPString: UTF-16 big-endian
      if (node.content.length % 2 !== 0) throw malformed('odd BMPString length');
      const swapped = Buffer.from(node.content);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: {
      // UniversalString: UTF-32 big-endian
      if (node.content.length % 4 !== 0) throw malformed('invalid UniversalString length');
      let out = '';
      for (let i = 0; i < node.content.length; i += 4)
        out += String.fromCodePoint(node.content.readUInt32BE(i));
      return out;
    }
    default:
      throw malformed(`unsupported string type 0x${node.tag.toString(16)}`);
  }
};

/** UTCTime (two-digit years: 50–99 → 19xx, as RFC 5280) or GeneralizedTime, in UTC ("Z") only. */
export const decodeTime = (node: DerNode): Date => {
  const text = node.content.toString('latin1');
  const match =
    node.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : node.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?Z$/.exec(text)
        : null;
  if (!match) throw malformed('expected a UTCTime or GeneralizedTime in UTC');
  const [, year = '', mo, d, h, mi, s, frac] = match;
  const fullYear = year.length === 2 ? (Number(year) >= 50 ? `19${year}` : `20${year}`) : year;
  const date = new Date(`${fullYear}-${mo}-${d}T${h}:${mi}:${s}${frac ? frac.slice(0, 4) : ''}Z`);
  if (Number.isNaN(date.getTime())) throw malformed('invalid date');
  return date;
};

export interface DerExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content (itself DER). */
  readonly value: Buffer;
}

/** The entries of an X.509 `Extensions` SEQUENCE (certificates, CRLs and their entries, OCSP responses). */
export const readExtensionList = (list: DerNode): DerExtension[] => {
  if (list.tag !== DER.SEQUENCE) throw malformed('Extensions is not a SEQUENCE');
  return derChildren(list).map((extension) => {
    const parts = derChildren(extension);
    const [id] = parts;
    const octets = parts[parts.length - 1];
    if (!id || parts.length < 2 || octets?.tag !== DER.OCTET_STRING) throw malformed('malformed extension');
    const critical = parts.length === 3 && parts[1]?.tag === DER.BOOLEAN && parts[1].content[0] !== 0;
    return { oid: decodeOid(id), critical, value: octets.content };
  });
};
