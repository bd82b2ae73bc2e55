// Rendered YAML → Kubernetes objects. js-yaml's core schema (no custom types) with merge keys (the API
// server's YAML decoder honours `<<`, so hiding a field behind one must not hide it from us), duplicate
// keys resolved last-wins as JSON decoding does, and an alias cap against anchor bombs. `List` kinds are
// flattened; documents that are not Kubernetes objects (no apiVersion/kind) are ignored.
import { CORE_SCHEMA, loadAll, mergeTag } from 'js-yaml';
import { ScanError } from './errors.ts';
import type { ScanLimits } from './limits.ts';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown };
  readonly [field: string]: unknown;
}

const SCHEMA = CORE_SCHEMA.withTags(mergeTag);
const MAX_LIST_NESTING = 3;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isKubeObject = (value: unknown): value is KubeObject =>
  isRecord(value) && typeof value.apiVersion === 'string' && typeof value.kind === 'string';

const load = (text: string, limits: ScanLimits): unknown[] =>
  loadAll(text, { schema: SCHEMA, json: true, maxAliases: limits.maxYamlAliases });

const collect = (
  documents: readonly unknown[],
  limits: ScanLimits,
  into: KubeObject[],
  nesting = 0,
): void => {
  for (const doc of documents) {
    if (!isKubeObject(doc)) continue;
    if (doc.kind.endsWith('List') && Array.isArray(doc.items) && nesting < MAX_LIST_NESTING) {
      collect(doc.items, limits, into, nesting + 1);
      continue;
    }
    into.push(doc);
    if (into.length > limits.maxObjects) {
      throw new ScanError('InvalidYaml', `more than ${limits.maxObjects} Kubernetes objects`);
    }
  }
};

/** Parses helm's output; any document that does not parse fails the scan (InvalidYaml). */
export const parseManifests = (text: string, limits: ScanLimits): KubeObject[] => {
  let documents: unknown[];
  try {
    documents = load(text, limits);
  } catch (cause) {
    throw new ScanError(
      'InvalidYaml',
      `rendered manifests do not parse: ${(cause as Error).message.split('\n')[0]}`,
      {
        cause,
      },
    );
  }
  const objects: KubeObject[] = [];
  collect(documents, limits, objects);
  return objects;
};

/**
 * Parses raw templates document by document, skipping what does not parse (template syntax left over);
 * an alias bomb still fails the scan.
 */
export const parseManifestsLeniently = (text: string, limits: ScanLimits): KubeObject[] => {
  const objects: KubeObject[] = [];
  for (const part of text.split(/^---[ \t]*(?:#.*)?$/m)) {
    let documents: unknown[];
    try {
      documents = load(part, limits);
    } catch (cause) {
      if (/maxAliases/.test((cause as Error).message)) {
        throw new ScanError('InvalidYaml', `template uses more than ${limits.maxYamlAliases} YAML aliases`, {
          cause,
        });
      }
      continue;
    }
    collect(documents, limits, objects);
  }
  return objects;
};
