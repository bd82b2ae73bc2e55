// Mutations of real signature material for the fuzz tests (fast-check): a signature is seen as nested
// "sites" — its bytes, a JSON document, the strings in it, the base64 / PEM / DER inside those strings,
// a COSE_Sign1's byte strings — and one to three mutations are applied at random sites, then everything
// around them is encoded again. Mutations: bit flips, truncation, insertion of random or hostile bytes,
// deletion, duplication, splices from other real signatures, JSON values of odd types (huge and negative
// numbers, deep nesting, duplicate keys), wrong base64, DER length tricks and certificates whose key
// node:crypto cannot use.
import fc from 'fast-check';
import { decodeCbor, isCborMap, isTagged, type CborValue } from '../../src/verify/notation/cbor.ts';
import { cbor, type TestCbor } from './notation/fixtures.ts';

export type SiteKind = 'bytes' | 'json' | 'text' | 'der' | 'cbor';

export interface Site {
  readonly kind: SiteKind;
  readonly bytes: Buffer;
  /** The whole signature with this site replaced. */
  readonly rebuild: (replacement: Buffer) => Buffer;
}

export interface MutationContext {
  /** Other real signatures' bytes, to splice from. */
  readonly donors: readonly Buffer[];
  /** DER certificates to swap in: other signers, odd keys. */
  readonly certificates: readonly Buffer[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MAX_DEPTH = 5;
const MAX_STRING_SITES = 40;

const isJsonContainer = (v: unknown): v is Json[] | Record<string, Json> =>
  typeof v === 'object' && v !== null;

/** Nesting depth of JSON text (brackets outside strings): deeper documents are mutated as bytes only. */
const jsonDepth = (text: string): number => {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max;
};

const MAX_MUTABLE_DEPTH = 100;

const parseJson = (bytes: Buffer): Json | undefined => {
  if (bytes.length === 0 || bytes.length > 2 * 1024 * 1024) return undefined;
  if (jsonDepth(bytes.toString('utf8')) > MAX_MUTABLE_DEPTH) return undefined;
  const first = bytes[0];
  if (first !== 0x7b && first !== 0x5b) return undefined;
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Json;
    return isJsonContainer(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
};

type Path = (string | number)[];

const leaves = (value: Json, path: Path = [], out: { path: Path; value: Json }[] = []): typeof out => {
  out.push({ path, value });
  if (out.length > 400) return out;
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, [...path, i], out));
  else if (isJsonContainer(value)) for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
  return out;
};

const setAt = (root: Json, path: Path, replacement: Json | undefined): Json => {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(root);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
};

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----([\s\S]+?)-----END \1-----/g;

/** base64 / base64url strings that decode and encode back to themselves. */
const decodeBase64 = (s: string): { bytes: Buffer; encoding: 'base64' | 'base64url' } | undefined => {
  if (s.length < 16) return undefined;
  if (B64.test(s)) {
    const bytes = Buffer.from(s, 'base64');
    if (bytes.toString('base64') === s) return { bytes, encoding: 'base64' };
  }
  if (B64URL.test(s)) {
    const bytes = Buffer.from(s, 'base64url');
    if (bytes.toString('base64url') === s) return { bytes, encoding: 'base64url' };
  }
  return undefined;
};

const toTestCbor = (value: CborValue): TestCbor | undefined => {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    const items = (value as CborValue[]).map(toTestCbor);
    return items.every((i) => i !== undefined) ? items : undefined;
  }
  if (isCborMap(value)) {
    const entries = [...value].map(([k, v]) => [k, toTestCbor(v)] as const);
    return entries.every(([, v]) => v !== undefined)
      ? new Map(entries as [string | number, TestCbor][])
      : undefined;
  }
  if (value !== undefined && value !== null && typeof value === 'object' && isTagged(value)) {
    const inner = toTestCbor(value.value);
    return inner === undefined ? undefined : { tag: value.tag, value: inner };
  }
  return undefined;
};

/** A COSE_Sign1_Tagged envelope's parts, when the test encoder can write it again. */
const coseParts = (
  bytes: Buffer,
):
  | { protectedRaw: Buffer; unprotected: Map<string | number, TestCbor>; payload: Buffer; signature: Buffer }
  | undefined => {
  if (bytes[0] !== 0xd2) return undefined;
  try {
    const decoded = decodeCbor(bytes);
    if (!isTagged(decoded) || decoded.tag !== 18 || !Array.isArray(decoded.value)) return undefined;
    const [protectedRaw, unprotected, payload, signature] = decoded.value as CborValue[];
    const map = unprotected !== undefined ? toTestCbor(unprotected) : undefined;
    if (!Buffer.isBuffer(protectedRaw) || !Buffer.isBuffer(payload) || !Buffer.isBuffer(signature))
      return undefined;
    if (!(map instanceof Map)) return undefined;
    return { protectedRaw, unprotected: map, payload, signature };
  } catch {
    return undefined;
  }
};

/** Every site of `bytes`, outermost first. */
export const sites = (bytes: Buffer, rebuild: (b: Buffer) => Buffer = (b) => b, depth = 0): Site[] => {
  const found: Site[] = [{ kind: 'bytes', bytes, rebuild }];
  if (depth >= MAX_DEPTH) return found;
  if (bytes[0] === 0x30 && bytes.length > 64) found.push({ kind: 'der', bytes, rebuild });
  const json = parseJson(bytes);
  if (json !== undefined) {
    found.push({ kind: 'json', bytes, rebuild });
    const strings = leaves(json)
      .filter((l) => typeof l.value === 'string')
      .slice(0, MAX_STRING_SITES);
    for (const { path, value } of strings) {
      const text = value as string;
      const setText = (s: string): Buffer => rebuild(Buffer.from(JSON.stringify(setAt(json, path, s))));
      found.push({ kind: 'text', bytes: Buffer.from(text), rebuild: (b) => setText(b.toString('utf8')) });
      const decoded = decodeBase64(text);
      if (decoded)
        found.push(...sites(decoded.bytes, (b) => setText(b.toString(decoded.encoding)), depth + 1));
      for (const match of text.matchAll(PEM_BLOCK)) {
        const der = Buffer.from((match[2] ?? '').replace(/\s/g, ''), 'base64');
        const at = match.index;
        const pem = (b: Buffer): string =>
          `-----BEGIN ${match[1]}-----\n${(b.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${match[1]}-----`;
        found.push(
          ...sites(
            der,
            (b) => setText(`${text.slice(0, at)}${pem(b)}${text.slice(at + match[0].length)}`),
            depth + 1,
          ),
        );
      }
    }
    return found;
  }
  const cose = coseParts(bytes);
  if (cose) {
    const write = (parts: typeof cose): Buffer =>
      rebuild(
        cbor({ tag: 18, value: [parts.protectedRaw, parts.unprotected, parts.payload, parts.signature] }),
      );
    found.push({
      kind: 'cbor',
      bytes: cose.protectedRaw,
      rebuild: (b) => write({ ...cose, protectedRaw: b }),
    });
    // The unprotected map as raw CBOR, so a mutation may leave it undecodable.
    found.push({
      kind: 'cbor',
      bytes: cbor(cose.unprotected),
      rebuild: (b) =>
        rebuild(
          Buffer.concat([
            Buffer.from([0xd2, 0x84]),
            cbor(cose.protectedRaw),
            b,
            cbor(cose.payload),
            cbor(cose.signature),
          ]),
        ),
    });
    found.push(...sites(cose.protectedRaw, (b) => write({ ...cose, protectedRaw: b }), depth + 1));
    found.push(...sites(cose.payload, (b) => write({ ...cose, payload: b }), depth + 1));
    found.push(...sites(cose.signature, (b) => write({ ...cose, signature: b }), depth + 1));
    const chain = cose.unprotected.get(33);
    if (Array.isArray(chain))
      chain.forEach((cert, i) => {
        if (!Buffer.isBuffer(cert)) return;
        const setCert = (b: Buffer): Buffer => {
          const next = [...chain];
          next[i] = b;
          return write({ ...cose, unprotected: new Map([...cose.unprotected, [33, next]]) });
        };
        found.push(...sites(cert, setCert, depth + 1));
      });
  }
  return found;
};

// ---- operations ------------------------------------------------------------------------------------

/** Bytes a careless parser trips on: DER and CBOR lengths that point far away, JSON openers, NULs. */
const HOSTILE_SNIPPETS: readonly Buffer[] = [
  Buffer.from('3084ffffffff', 'hex'),
  Buffer.from('3080', 'hex'),
  Buffer.from('0200', 'hex'),
  Buffer.from('0389ffffffffffffffffff', 'hex'),
  Buffer.from('9f', 'hex'),
  Buffer.from('bf', 'hex'),
  Buffer.from('5bffffffffffffffff', 'hex'),
  Buffer.from('9bffffffffffffffff', 'hex'),
  Buffer.from('dbffffffffffffffff', 'hex'),
  Buffer.from('{"a":'),
  Buffer.from('['.repeat(1000)),
  Buffer.from('\u0000'),
  Buffer.from('\ud800', 'utf16le'),
  Buffer.from('-----BEGIN CERTIFICATE-----\n'),
];

/** JSON tokens written as they are (numbers JSON.stringify cannot make, deep nesting, duplicate keys). */
const RAW_VALUES: readonly string[] = [
  'null',
  'true',
  '0',
  '-1',
  '-0',
  '1e400',
  '-1e400',
  '9007199254740993',
  '123456789012345678901234567890',
  '1.5',
  '""',
  '"\\u0000"',
  '"\\ud800"',
  '[]',
  '{}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
  `"${'A'.repeat(200_000)}"`,
  '{"__proto__":{"polluted":true}}',
  '[1,"a",null,{}]',
];

const RAW_MARKER = '\u0001raw\u0001';

export type Operation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'insertHostile'; at: number; which: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'setByte'; at: number; value: number }
  | { op: 'splice'; at: number; donor: number; from: number; length: number }
  | { op: 'jsonReplace'; leaf: number; raw: number }
  | { op: 'jsonValue'; leaf: number; value: unknown }
  | { op: 'jsonDelete'; leaf: number }
  | { op: 'jsonDuplicateKey'; leaf: number; raw: number }
  | { op: 'text'; variant: number; at: number }
  | { op: 'derLength'; nth: number; trick: number }
  | { op: 'certificate'; which: number }
  | { op: 'cborValue'; entry: number; value: number };

const position = fc.nat({ max: 1 << 20 });

export const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({
    op: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ op: fc.constant('insertHostile' as const), at: position, which: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    op: fc.constant('duplicate' as const),
    at: position,
    length: fc.integer({ min: 1, max: 256 }),
  }),
  fc.record({
    op: fc.constant('setByte' as const),
    at: position,
    value: fc.constantFrom(0x00, 0xff, 0x80, 0x7f, 0x30, 0x22, 0x5c),
  }),
  fc.record({
    op: fc.constant('splice' as const),
    at: position,
    donor: fc.nat(),
    from: position,
    length: fc.integer({ min: 1, max: 512 }),
  }),
  fc.record({ op: fc.constant('jsonReplace' as const), leaf: fc.nat(), raw: fc.nat() }),
  fc.record({ op: fc.constant('jsonValue' as const), leaf: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ op: fc.constant('jsonDelete' as const), leaf: fc.nat() }),
  fc.record({ op: fc.constant('jsonDuplicateKey' as const), leaf: fc.nat(), raw: fc.nat() }),
  fc.record({ op: fc.constant('text' as const), variant: fc.nat(), at: position }),
  fc.record({ op: fc.constant('derLength' as const), nth: fc.nat(), trick: fc.nat() }),
  fc.record({ op: fc.constant('certificate' as const), which: fc.nat() }),
  fc.record({ op: fc.constant('cborValue' as const), entry: fc.nat(), value: fc.nat() }),
);

export interface Mutation {
  readonly site: number;
  readonly operation: Operation;
}

export const mutations: fc.Arbitrary<Mutation[]> = fc.array(fc.record({ site: fc.nat(), operation }), {
  minLength: 1,
  maxLength: 3,
});

const KIND_OF: Readonly<Record<Operation['op'], SiteKind>> = {
  flip: 'bytes',
  truncate: 'bytes',
  insert: 'bytes',
  insertHostile: 'bytes',
  delete: 'bytes',
  duplicate: 'bytes',
  setByte: 'bytes',
  splice: 'bytes',
  jsonReplace: 'json',
  jsonValue: 'json',
  jsonDelete: 'json',
  jsonDuplicateKey: 'json',
  text: 'text',
  derLength: 'der',
  certificate: 'der',
  cborValue: 'cbor',
};

const at = (n: number, length: number): number => (length === 0 ? 0 : n % (length + 1));

const withRaw = (json: Json, path: Path, raw: string): Buffer => {
  const text = JSON.stringify(setAt(json, path, RAW_MARKER));
  return Buffer.from(text.replace(JSON.stringify(RAW_MARKER), raw));
};

const TEXT_VARIANTS: readonly ((s: string, n: number) => string)[] = [
  (s) => s.replace(/\+/g, '-').replace(/\//g, '_'),
  (s) => s.replace(/-/g, '+').replace(/_/g, '/'),
  (s) => s.replace(/=+$/, ''),
  (s) => `${s}==`,
  (s) => (s.match(/.{1,64}/g) ?? []).join('\n'),
  (s, n) => `${s.slice(0, at(n, s.length))} ${s.slice(at(n, s.length))}`,
  (s, n) => `${s.slice(0, at(n, s.length))}!${s.slice(at(n, s.length))}`,
  (s, n) => `${s.slice(0, at(n, s.length))}.${s.slice(at(n, s.length))}`,
  (s, n) => {
    const i = at(n, s.length - 1);
    const c = s[i] ?? '';
    return `${s.slice(0, i)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${s.slice(i + 1)}`;
  },
  (s) => `${s}A`,
  () => '',
  (s) => s.repeat(50),
  (s) => `data:;base64,${s}`,
  (s) => s.normalize('NFKD').replace(/A/g, '\u0391'),
];

/** Offsets of plausible DER headers (a universal or context tag and a length that fits). */
const derHeaders = (der: Buffer): number[] => {
  const offsets: number[] = [];
  for (let i = 0; i + 1 < der.length && offsets.length < 200; i++) {
    const tag = der[i] ?? 0;
    if (![0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0x0c, 0x13, 0x17, 0xa0, 0xa3].includes(tag)) continue;
    const len = der[i + 1] ?? 0;
    if (len < 0x80 ? i + 2 + len <= der.length : len >= 0x81 && len <= 0x83) offsets.push(i);
  }
  return offsets;
};

const DER_TRICKS: readonly ((der: Buffer, i: number) => Buffer)[] = [
  (d, i) => Buffer.concat([d.subarray(0, i + 1), Buffer.from([0x80]), d.subarray(i + 2)]),
  (d, i) =>
    Buffer.concat([d.subarray(0, i + 1), Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]), d.subarray(i + 2)]),
  (d, i) => Buffer.concat([d.subarray(0, i + 1), Buffer.from([0x00]), d.subarray(i + 2)]),
  (d, i) => {
    const copy = Buffer.from(d);
    copy[i + 1] = ((copy[i + 1] ?? 0) + 1) & 0xff;
    return copy;
  },
  (d, i) => {
    const copy = Buffer.from(d);
    copy[i + 1] = ((copy[i + 1] ?? 0) + 255) & 0xff;
    return copy;
  },
  // A non-minimal long form of the same length.
  (d, i) => {
    const len = d[i + 1] ?? 0;
    return len < 0x80
      ? Buffer.concat([d.subarray(0, i + 1), Buffer.from([0x81, len]), d.subarray(i + 2)])
      : d;
  },
  (d, i) =>
    Buffer.concat([d.subarray(0, i + 1), Buffer.from([0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0]), d.subarray(i + 2)]),
  // A high tag number form.
  (d, i) => Buffer.concat([d.subarray(0, i), Buffer.from([0x1f, 0x81, 0x00]), d.subarray(i + 1)]),
];

/** CBOR values of odd types and sizes: deep nesting past the decoder's limit, the largest heads, tags. */
const deepArray = (depth: number): TestCbor => (depth === 0 ? 0 : [deepArray(depth - 1)]);
const ODD_CBOR: readonly TestCbor[] = [
  0,
  -1,
  0xffffffff,
  -0x100000000,
  '',
  Buffer.alloc(0),
  [],
  new Map(),
  deepArray(20),
  { tag: 1, value: 'not a number' },
  { tag: 1, value: 0xffffffff },
  { tag: 0xffff, value: 0 },
  ['io.cncf.notary.signingScheme', 'io.cncf.notary.unknown'],
  'notary.x509.signingAuthority',
];

const applyOperation = (site: Site, operation: Operation, context: MutationContext): Buffer => {
  const b = site.bytes;
  switch (operation.op) {
    case 'flip': {
      if (b.length === 0) return site.rebuild(Buffer.from([1 << operation.bit]));
      const copy = Buffer.from(b);
      const i = operation.at % b.length;
      copy[i] = (copy[i] ?? 0) ^ (1 << operation.bit);
      return site.rebuild(copy);
    }
    case 'truncate':
      return site.rebuild(b.subarray(0, b.length === 0 ? 0 : operation.at % b.length));
    case 'insert':
    case 'insertHostile': {
      const i = at(operation.at, b.length);
      const bytes =
        operation.op === 'insert'
          ? Buffer.from(operation.bytes)
          : (HOSTILE_SNIPPETS[operation.which % HOSTILE_SNIPPETS.length] ?? Buffer.alloc(0));
      return site.rebuild(Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]));
    }
    case 'delete': {
      const i = at(operation.at, b.length);
      return site.rebuild(Buffer.concat([b.subarray(0, i), b.subarray(i + operation.length)]));
    }
    case 'duplicate': {
      const i = at(operation.at, b.length);
      const part = b.subarray(i, i + operation.length);
      return site.rebuild(Buffer.concat([b.subarray(0, i), part, part, b.subarray(i + part.length)]));
    }
    case 'setByte': {
      const copy = Buffer.from(b.length === 0 ? Buffer.alloc(1) : b);
      copy[operation.at % copy.length] = operation.value;
      return site.rebuild(copy);
    }
    case 'splice': {
      const donor = context.donors[operation.donor % Math.max(1, context.donors.length)] ?? b;
      const from = at(operation.from, donor.length);
      const i = at(operation.at, b.length);
      const part = donor.subarray(from, from + operation.length);
      return site.rebuild(Buffer.concat([b.subarray(0, i), part, b.subarray(i + part.length)]));
    }
    case 'jsonReplace':
    case 'jsonValue':
    case 'jsonDelete':
    case 'jsonDuplicateKey': {
      const json = parseJson(b);
      if (json === undefined) return site.rebuild(b);
      const all = leaves(json).filter((l) => l.path.length > 0);
      const leaf = all[operation.leaf % Math.max(1, all.length)];
      if (!leaf) return site.rebuild(Buffer.from('null'));
      if (operation.op === 'jsonDelete')
        return site.rebuild(Buffer.from(JSON.stringify(setAt(json, leaf.path, undefined))));
      if (operation.op === 'jsonValue')
        return site.rebuild(Buffer.from(JSON.stringify(setAt(json, leaf.path, operation.value as Json))));
      const raw = RAW_VALUES[operation.raw % RAW_VALUES.length] ?? 'null';
      if (operation.op === 'jsonReplace') return site.rebuild(withRaw(json, leaf.path, raw));
      // A second member of the same name after the first: which one wins is the parser's choice.
      const key = leaf.path[leaf.path.length - 1];
      if (typeof key !== 'string') return site.rebuild(withRaw(json, leaf.path, raw));
      const text = JSON.stringify(json);
      const needle = `${JSON.stringify(key)}:`;
      const index = text.indexOf(needle);
      return site.rebuild(Buffer.from(`${text.slice(0, index)}${needle}${raw},${text.slice(index)}`));
    }
    case 'text': {
      const variant = TEXT_VARIANTS[operation.variant % TEXT_VARIANTS.length];
      return site.rebuild(Buffer.from(variant ? variant(b.toString('utf8'), operation.at) : ''));
    }
    case 'derLength': {
      const headers = derHeaders(b);
      const i = headers[operation.nth % Math.max(1, headers.length)];
      const trick = DER_TRICKS[operation.trick % DER_TRICKS.length];
      return site.rebuild(i === undefined || !trick ? b.subarray(1) : trick(b, i));
    }
    case 'cborValue': {
      let map: TestCbor | undefined;
      try {
        map = toTestCbor(decodeCbor(b));
      } catch {
        return site.rebuild(b);
      }
      if (!(map instanceof Map) || map.size === 0) return site.rebuild(b);
      const keys = [...map.keys()];
      const key = keys[operation.entry % keys.length] ?? 0;
      const next = new Map(map);
      next.set(key, ODD_CBOR[operation.value % ODD_CBOR.length] ?? 0);
      return site.rebuild(cbor(next));
    }
    case 'certificate': {
      const replacement = context.certificates[operation.which % Math.max(1, context.certificates.length)];
      return site.rebuild(replacement ?? Buffer.alloc(0));
    }
  }
};

/** `original` with each mutation applied in turn (sites are found again after each). */
export const mutate = (original: Buffer, list: readonly Mutation[], context: MutationContext): Buffer => {
  let current = original;
  for (const { site, operation } of list) {
    const all = sites(current);
    const fitting = all.filter((s) => s.kind === KIND_OF[operation.op]);
    const pool = fitting.length > 0 ? fitting : all.filter((s) => s.kind === 'bytes');
    const chosen = pool[site % pool.length] ?? all[0];
    if (!chosen) continue;
    current = applyOperation(
      chosen,
      fitting.length > 0 ? operation : { op: 'flip', at: site, bit: site % 8 },
      context,
    );
  }
  return current;
};
