// A small, strict CBOR (RFC 8949) decoder for COSE_Sign1 envelopes, and the one encoding COSE needs
// (the Sig_structure). Definite lengths only, no duplicate map keys, integers within 2^53, bounded
// nesting; every declared length is checked against the bytes that remain before anything is read.
import { NotationError } from './errors.ts';

export type CborKey = number | string;
export type CborValue =
  | number
  | string
  | boolean
  | null
  | undefined
  | Buffer
  | readonly CborValue[]
  | ReadonlyMap<CborKey, CborValue>
  | CborTagged;

export interface CborTagged {
  readonly tag: number;
  readonly value: CborValue;
}

export const MAX_CBOR_DEPTH = 16;

const malformed = (what: string): NotationError =>
  new NotationError('MalformedEnvelope', `invalid CBOR: ${what}`);

export const isTagged = (value: CborValue): value is CborTagged =>
  typeof value === 'object' &&
  value !== null &&
  !Buffer.isBuffer(value) &&
  !Array.isArray(value) &&
  !(value instanceof Map);

export const isCborMap = (value: CborValue): value is ReadonlyMap<CborKey, CborValue> => value instanceof Map;

const halfToNumber = (half: number): number => {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const sign = half & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
};

class Reader {
  private offset = 0;
  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private take(n: number): Buffer {
    if (n > this.remaining) throw malformed('truncated');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** The argument of a head (RFC 8949 §3); indefinite lengths (31) are refused. */
  private argument(info: number): number {
    if (info < 24) return info;
    if (info === 24) return this.take(1).readUInt8(0);
    if (info === 25) return this.take(2).readUInt16BE(0);
    if (info === 26) return this.take(4).readUInt32BE(0);
    if (info === 27) {
      const big = this.take(8).readBigUInt64BE(0);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('integer too large');
      return Number(big);
    }
    throw malformed(info === 31 ? 'indefinite lengths are not supported' : 'reserved additional information');
  }

  private length(info: number, minItemBytes: number): number {
    const n = this.argument(info);
    if (n * minItemBytes > this.remaining) throw malformed('length beyond the end of the data');
    return n;
  }

  read(depth: number): CborValue {
    if (depth > MAX_CBOR_DEPTH) throw new NotationError('EnvelopeTooLarge', 'CBOR nested too deeply');
    const head = this.take(1).readUInt8(0);
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1:
        return -1 - this.argument(info);
      case 2:
        return Buffer.from(this.take(this.length(info, 1)));
      case 3: {
        const bytes = this.take(this.length(info, 1));
        const text = bytes.toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(bytes)) throw malformed('text string is not valid UTF-8');
        return text;
      }
      case 4: {
        const n = this.length(info, 1);
        const items: CborValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.read(depth + 1));
        return items;
      }
      case 5: {
        const n = this.length(info, 2);
        const map = new Map<CborKey, CborValue>();
        for (let i = 0; i < n; i++) {
          const key = this.read(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string')
            throw malformed('map keys must be integers or text');
          if (map.has(key)) throw malformed(`duplicate map key ${JSON.stringify(key)}`);
          map.set(key, this.read(depth + 1));
        }
        return map;
      }
      case 6: {
        const tag = this.argument(info);
        return { tag, value: this.read(depth + 1) };
      }
      default:
        return this.simple(info);
    }
  }

  private simple(info: number): CborValue {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25:
        return halfToNumber(this.take(2).readUInt16BE(0));
      case 26:
        return this.take(4).readFloatBE(0);
      case 27:
        return this.take(8).readDoubleBE(0);
      default:
        throw malformed(`unsupported simple value ${info}`);
    }
  }
}

/** Decodes exactly one CBOR data item that fills `buf`. */
export const decodeCbor = (buf: Buffer): CborValue => {
  const reader = new Reader(buf);
  const value = reader.read(0);
  if (reader.remaining !== 0) throw malformed('trailing data');
  return value;
};

const head = (major: number, n: number): Buffer => {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
};

/** Encodes arrays of text and byte strings: all the Sig_structure contains. */
export const encodeCbor = (value: string | Buffer | readonly (string | Buffer)[]): Buffer => {
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  return Buffer.concat([head(4, value.length), ...value.map((item) => encodeCbor(item))]);
};
