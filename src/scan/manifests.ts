// Rendered YAML → Kubernetes objects, through the one bounded YAML reader (go-yaml v2 semantics, as helm, Flux
// and Argo CD decode). The output is split into documents the way Kubernetes splits it and parsed one document
// at a time, so the object, node and byte caps stop a flood before it is materialised. `List` kinds are
// flattened; documents that are not Kubernetes objects (no apiVersion/kind) are ignored.
import { ScanError } from './errors.ts';
import type { ScanLimits } from './limits.ts';
import {
  decodeUtf8,
  isYamlError,
  parseYaml,
  splitYamlDocuments,
  type YamlLimits,
} from '../yaml/bounded-yaml.ts';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown };
  readonly [field: string]: unknown;
}

const MAX_LIST_NESTING = 3;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isKubeObject = (value: unknown): value is KubeObject =>
  isRecord(value) && typeof value.apiVersion === 'string' && typeof value.kind === 'string';

const yamlLimits = (limits: ScanLimits): YamlLimits => ({
  maxBytes: limits.maxYamlDocumentBytes,
  maxDepth: limits.maxYamlDepth,
  maxAliases: limits.maxYamlAliases,
  maxNodes: limits.maxYamlNodes,
});

/** What a chart's output may use in total: shared by every template of a static scan. */
export interface ManifestBudget {
  objects: number;
  bytes: number;
  /** YAML nodes, aliases expanded. */
  nodes: number;
}

export const newManifestBudget = (): ManifestBudget => ({ objects: 0, bytes: 0, nodes: 0 });

const collect = (
  value: unknown,
  limits: ScanLimits,
  budget: ManifestBudget,
  into: KubeObject[],
  nesting = 0,
): void => {
  if (!isKubeObject(value)) return;
  if (value.kind.endsWith('List') && Array.isArray(value.items) && nesting < MAX_LIST_NESTING) {
    for (const item of value.items) collect(item, limits, budget, into, nesting + 1);
    return;
  }
  if (++budget.objects > limits.maxObjects) {
    throw new ScanError('TooManyObjects', `more than ${limits.maxObjects} Kubernetes objects`);
  }
  into.push(value);
};

const asScanError = (error: unknown, where: string): unknown =>
  isYamlError(error) ? new ScanError(error.code, `${where}: ${error.message}`, { cause: error }) : error;

/**
 * Parses a document stream. Strict: any document that does not parse fails the scan. Lenient (raw
 * templates): a document that does not parse is skipped, but a limit (aliases, nodes, depth, size) still fails.
 */
const parseStream = (
  output: string | Buffer,
  limits: ScanLimits,
  budget: ManifestBudget,
  lenient: boolean,
  where: string,
): KubeObject[] => {
  const bytes = typeof output === 'string' ? Buffer.byteLength(output) : output.length;
  budget.bytes += bytes;
  if (budget.bytes > limits.maxRenderedBytes) {
    throw new ScanError('OutputTooLarge', `more than ${limits.maxRenderedBytes} bytes of manifests`);
  }
  const objects: KubeObject[] = [];
  const perDocument = yamlLimits(limits);
  try {
    const text = typeof output === 'string' ? output : decodeUtf8(output);
    for (const document of splitYamlDocuments(text)) {
      let value: unknown;
      try {
        value = parseYaml(document.text, {
          ...perDocument,
          maxNodes: Math.min(perDocument.maxNodes, limits.maxTotalYamlNodes - budget.nodes),
        });
      } catch (error) {
        if (lenient && isYamlError(error) && error.code === 'InvalidYaml') continue;
        if (isYamlError(error) && error.code === 'YamlTooManyNodes' && budget.nodes > 0) {
          throw new ScanError(
            'YamlTooManyNodes',
            `${where}: more than ${limits.maxTotalYamlNodes} YAML nodes in total`,
            { cause: error },
          );
        }
        throw asScanError(error, `${where}, document at line ${document.line}`);
      }
      budget.nodes += countNodes(value);
      collect(value, limits, budget, objects);
    }
  } catch (error) {
    throw asScanError(error, where);
  }
  return objects;
};

/** Nodes of a parsed value, counted iteratively (values are acyclic; shared alias targets count each time). */
const countNodes = (value: unknown): number => {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    count++;
    const children = Array.isArray(next) ? (next as unknown[]) : isRecord(next) ? Object.values(next) : [];
    for (const child of children) pending.push(child);
  }
  return count;
};

/** Parses helm's output; any document that does not parse fails the scan (InvalidYaml). */
export const parseManifests = (output: string | Buffer, limits: ScanLimits): KubeObject[] =>
  parseStream(output, limits, newManifestBudget(), false, 'rendered manifests');

/**
 * Parses the raw templates of a static scan, document by document, skipping what does not parse (template
 * syntax left over); limits still fail the scan. `budget` is shared by all templates of one chart.
 */
export const parseManifestsLeniently = (
  text: string,
  limits: ScanLimits,
  budget: ManifestBudget = newManifestBudget(),
  where = 'template',
): KubeObject[] => parseStream(text, limits, budget, true, where);
