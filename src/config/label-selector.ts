// Kubernetes label selectors in their string form (`--watch-label-selector`, as Flux's sharding flag):
// parsed once at start-up with the grammar of k8s.io/apimachinery's labels.Parse, so a typo is a clear
// start-up error instead of a list the API server refuses forever, and matched here for objects that reach
// a reconcile by another path than the informer (a GET after a label change moved a CR to another shard).
import { BaseError } from '../errors.ts';

export class LabelSelectorError extends BaseError<'InvalidSelector'> {}

export type Requirement =
  | { readonly key: string; readonly op: 'exists' | '!exists' }
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'gt' | 'lt'; readonly value: number };

export interface LabelSelector {
  /** The selector as given (sent to the API server as labelSelector). */
  readonly text: string;
  readonly requirements: readonly Requirement[];
}

const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*$/;

const validKey = (key: string): boolean => {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
};

const validValue = (value: string): boolean => value === '' || NAME.test(value);

/** Tokens: identifiers (keys and values), operators, parentheses, commas, `!`. */
const TOKEN = /\s*(?:(==|!=|=|\(|\)|,|!|<|>)|([^\s=!(),<>]+))/y;

const tokenize = (text: string): string[] => {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) {
      if (/^\s*$/.test(text.slice(start))) break;
      throw new LabelSelectorError('InvalidSelector', `unexpected character at ${start} in "${text}"`);
    }
    tokens.push(match[1] ?? match[2] ?? '');
  }
  return tokens;
};

export const parseLabelSelector = (text: string): LabelSelector => {
  const tokens = tokenize(text);
  const requirements: Requirement[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new LabelSelectorError('InvalidSelector', `label selector "${text}": ${why}`);
  };
  const key = (token: string | undefined): string => {
    if (token === undefined || !validKey(token)) fail(`"${token ?? ''}" is not a label key`);
    return token as string;
  };
  const value = (token: string | undefined): string => {
    if (token === undefined || ['(', ')', ',', '!', '=', '==', '!=', '<', '>'].includes(token)) return '';
    if (!validValue(token)) fail(`"${token}" is not a label value`);
    i += 1;
    return token;
  };
  while (i < tokens.length) {
    if (tokens[i] === '!') {
      requirements.push({ key: key(tokens[i + 1]), op: '!exists' });
      i += 2;
    } else {
      const name = key(tokens[i]);
      const op = tokens[i + 1];
      i += 2;
      if (op === undefined || op === ',') {
        requirements.push({ key: name, op: 'exists' });
        i -= 1;
      } else if (op === '=' || op === '==' || op === '!=') {
        requirements.push({ key: name, op: op === '!=' ? 'notin' : 'in', values: [value(tokens[i])] });
      } else if (op === 'in' || op === 'notin') {
        if (tokens[i] !== '(') fail(`"${op}" needs a parenthesised list`);
        i += 1;
        const values: string[] = [];
        for (;;) {
          values.push(value(tokens[i]));
          const next = tokens[i];
          i += 1;
          if (next === ')') break;
          if (next !== ',') fail(`the list after "${op}" is not closed`);
        }
        requirements.push({ key: name, op, values });
      } else if (op === '<' || op === '>') {
        const number = tokens[i];
        if (number === undefined || !/^-?\d{1,15}$/.test(number)) fail(`"${op}" needs an integer`);
        i += 1;
        requirements.push({ key: name, op: op === '<' ? 'lt' : 'gt', value: Number(number) });
      } else fail(`unknown operator "${op}"`);
    }
    if (i < tokens.length) {
      if (tokens[i] !== ',') fail(`expected "," before "${tokens[i]}"`);
      i += 1;
      if (i === tokens.length) fail('a trailing ","');
    }
  }
  return { text, requirements };
};

/** Whether labels satisfy every requirement (the API server's semantics; an empty selector matches all). */
export const matchesLabels = (
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean =>
  selector.requirements.every((r) => {
    const present = labels !== undefined && Object.hasOwn(labels, r.key);
    const actual = present ? labels[r.key] : undefined;
    switch (r.op) {
      case 'exists':
        return present;
      case '!exists':
        return !present;
      case 'in':
        return present && r.values.includes(actual ?? '');
      case 'notin':
        return !present || !r.values.includes(actual ?? '');
      case 'gt':
      case 'lt': {
        if (!present || !/^-?\d+$/.test(actual ?? '')) return false;
        const n = Number(actual);
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
