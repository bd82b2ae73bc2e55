// Helm values as the GitOps tools compose them: a deep merge where maps merge and everything else is
// replaced (Flux's chartutil.MergeMaps, Helm's merging of several -f files), values YAML parsed in the core
// reader (go-yaml v2 semantics, as Flux and helm read values), and `--set`-style assignments at a dotted path (Helm strvals: `a.b[0].c`, `\.` escapes a dot,
// typed values unless forced to strings). Limit: one assignment per call, the value is never split at commas.
import { ownValue, setOwnValue } from '../yaml/own-keys.ts';
import { parseYaml } from '../yaml/bounded-yaml.ts';
import { isRecord } from './object-fields.ts';

export type HelmValues = Record<string, unknown>;

/** b over a: maps are merged key by key, any other value of b replaces a's. Neither input is modified. */
export const mergeValues = (a: HelmValues, b: HelmValues): HelmValues => {
  const out: HelmValues = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = ownValue(out, key);
    setOwnValue(out, key, isRecord(value) && isRecord(existing) ? mergeValues(existing, value) : value);
  }
  return out;
};

/**
 * A values document (values.yaml, an Argo CD `helm.values` string); empty → {}. Throws a YamlError past the
 * reader's limits (anchor bombs included), or on a non-map.
 */
export const parseValuesYaml = (text: string): HelmValues => {
  const doc: unknown = parseYaml(text);
  if (doc === undefined || doc === null) return {};
  if (!isRecord(doc)) throw new Error('values document is not a map');
  return doc;
};

type PathStep = { readonly key: string } | { readonly index: number };

const MAX_INDEX = 65536; // Helm's strvals limit on list indexes

const parsePath = (path: string): PathStep[] => {
  const steps: PathStep[] = [];
  let key = '';
  let pendingKey = true;
  const flushKey = (): void => {
    if (pendingKey) {
      if (key === '') throw new Error(`empty key in path "${path}"`);
      steps.push({ key });
    }
    key = '';
  };
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && i + 1 < path.length) {
      key += path[++i];
    } else if (c === '.') {
      flushKey();
      pendingKey = true;
    } else if (c === '[') {
      flushKey();
      const close = path.indexOf(']', i);
      const index = Number(path.slice(i + 1, close));
      if (close < 0 || !Number.isInteger(index) || index < 0 || index > MAX_INDEX)
        throw new Error(`invalid list index in path "${path}"`);
      steps.push({ index });
      i = close;
      pendingKey = false;
    } else {
      if (!pendingKey) throw new Error(`unexpected "${c}" after a list index in path "${path}"`);
      key += c;
    }
  }
  if (pendingKey) flushKey();
  return steps;
};

/** Helm strvals typing: true/false/null, integers without a leading zero; everything else a string. */
export const typedValue = (raw: string): unknown => {
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (raw === '0') return 0;
  if (/^[-+]?[1-9]\d*$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  return raw;
};

const setAt = (container: unknown, steps: readonly PathStep[], value: unknown): unknown => {
  const [step, ...rest] = steps;
  if (step === undefined) return value;
  if ('index' in step) {
    const list = Array.isArray(container) ? [...(container as unknown[])] : [];
    while (list.length <= step.index) list.push(null);
    list[step.index] = setAt(list[step.index], rest, value);
    return list;
  }
  const map: HelmValues = isRecord(container) ? { ...container } : {};
  setOwnValue(map, step.key, setAt(ownValue(map, step.key), rest, value));
  return map;
};

/**
 * `path=value` into a copy of `values`, as `helm --set` (typed) or `--set-string` / `--set-literal`
 * (`asString`). Throws on a malformed path.
 */
export const setValueAtPath = (
  values: HelmValues,
  path: string,
  value: string,
  asString: boolean,
): HelmValues => {
  const steps = parsePath(path);
  const first = steps[0];
  if (first === undefined || !('key' in first)) throw new Error(`path "${path}" must start with a key`);
  return setAt(values, steps, asString ? value : typedValue(value)) as HelmValues;
};
