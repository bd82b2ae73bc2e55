// An ObjectReader over a list of objects, for the unit tests of the source adapters (ObjectReader is
// tagguard's own interface; the integration tests run the same adapters against the real API server).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectReader } from '../../src/sources/types.ts';

const matches = (object: KubernetesObject, selector: string | undefined): boolean =>
  selector === undefined ||
  selector
    .split(',')
    .map((term) => term.split('='))
    .every(([key = '', value]) => object.metadata?.labels?.[key] === value);

export const memoryReader = (objects: readonly KubernetesObject[]): ObjectReader => ({
  get: (apiVersion, kind, namespace, name) =>
    Promise.resolve(
      objects.find(
        (o) =>
          o.apiVersion === apiVersion &&
          o.kind === kind &&
          o.metadata?.namespace === namespace &&
          o.metadata?.name === name,
      ),
    ),
  list: (apiVersion, kind, namespace, labelSelector) =>
    Promise.resolve(
      objects.filter(
        (o) =>
          o.apiVersion === apiVersion &&
          o.kind === kind &&
          (namespace === undefined || o.metadata?.namespace === namespace) &&
          matches(o, labelSelector),
      ),
    ),
});
