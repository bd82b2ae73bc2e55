// JSON that a signature covers, read so that tagguard cannot see another document than the Go tools do.
// Go's encoding/json matches object keys to struct fields case-insensitively (with Unicode simple folding:
// "ſ" reads as "s", the Kelvin sign as "k") and lets the last duplicate win; JSON.parse matches exactly.
// A payload with `"docker-manifest-digest": A` and `"Docker-Manifest-Digest": B` means A to tagguard and
// B to cosign. Such documents are refused: duplicate keys, keys equal under Go's folding, and keys that
// fold to a field Go reads without being it. Written by hand: no JSON library reports duplicate keys
// together with Go's folding rule; the scan is iterative (no recursion depth to exhaust) and linear.

export type SignedJson =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** Go's appendFoldedName: ASCII upper-cased, other runes ToUpper(ToLower(r)) — only these four fold to ASCII. */
const FOLDS_TO_ASCII: Readonly<Record<number, string>> = { 0x17f: 'S', 0x131: 'I', 0x130: 'I', 0x212a: 'K' };

export const goFoldName = (name: string): string => {
  let out = '';
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    out += code < 0x80 ? ch.toUpperCase() : (FOLDS_TO_ASCII[code] ?? ch);
  }
  return out;
};

/** The raw key strings of every object in `text`, object by object (assumes `text` is valid JSON). */
const objectKeys = (text: string): string[][] => {
  const objects: string[][] = [];
  const open: (string[] | undefined)[] = []; // undefined for arrays
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const current = open[open.length - 1];
      if (expectKey && current) current.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{') {
      const keys: string[] = [];
      objects.push(keys);
      open.push(keys);
      expectKey = true;
    } else if (c === '[') {
      open.push(undefined);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      open.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = open[open.length - 1] !== undefined;
    }
  }
  return objects;
};

/**
 * Parses signed JSON and refuses what Go's encoding/json could read differently. `fields` are the names
 * the Go side decodes into struct fields; `aliases` are other spellings it also accepts (protojson's
 * original field names), refused outright.
 */
export const parseSignedJson = (
  text: string,
  fields: readonly string[],
  aliases: readonly string[] = [],
): SignedJson => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the signed document is not JSON' };
  }
  const folded = new Map(fields.map((f) => [goFoldName(f), f]));
  for (const keys of objectKeys(text)) {
    const seen = new Set<string>();
    for (const key of keys) {
      const fold = goFoldName(key);
      if (seen.has(fold))
        return {
          ok: false,
          message: `the signed document repeats the key ${JSON.stringify(key)} (Go and tagguard would read different values)`,
        };
      seen.add(fold);
      const field = folded.get(fold);
      if ((field !== undefined && field !== key) || aliases.includes(key))
        return {
          ok: false,
          message: `the signed document spells a field as ${JSON.stringify(key)}, which Go reads as another field`,
        };
    }
  }
  return { ok: true, value };
};
