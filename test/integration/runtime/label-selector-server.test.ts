// --watch-label-selector is parsed and matched by tagguard (config/label-selector.ts) and sent to the API
// server by the informer: the two must agree. Each case is sent to the real API server: the selectors
// tagguard accepts select the same ConfigMaps there as matchesLabels() does, and the ones it refuses the
// server refuses too.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeTestClient } from '../../env/kube.ts';
import { kubeJson } from '../../../src/runtime/kube-api.ts';
import { matchesLabels, parseLabelSelector } from '../../../src/config/label-selector.ts';
import { INVALID_SELECTORS, LABEL_SETS, VALID_SELECTORS } from '../../config/label-selector-cases.ts';
import { configMap, createNamespace } from './support.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
let ns = '';

const listNames = async (labelSelector: string): Promise<string[]> => {
  const list = await kubeJson<{ items: { metadata: { name: string } }[] }>(kube.kubeConfig, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    query: { labelSelector },
  });
  return list.items
    .map((i) => i.metadata.name)
    .filter((n) => n.startsWith('set-'))
    .sort();
};

beforeAll(async () => {
  ns = await createNamespace(kube, 'selector');
  for (const [index, labels] of LABEL_SETS.entries())
    await kube.apply(configMap(ns, `set-${index}`, {}, { ...labels }));
});

describe('label selectors: tagguard and the API server agree', () => {
  it.each(VALID_SELECTORS)('%j selects the same objects', async (text) => {
    const selector = parseLabelSelector(text);
    const expected = LABEL_SETS.flatMap((labels, index) =>
      matchesLabels(selector, labels) ? [`set-${index}`] : [],
    ).sort();
    expect(await listNames(text)).toEqual(expected);
  });

  it.each(INVALID_SELECTORS)('%j is refused by the server as well', async (text) => {
    await expect(listNames(text)).rejects.toThrow(/400|BadRequest|unable to parse|invalid/i);
  });
});
