// The values a HelmRelease deploys with, composed as helm-controller does (fluxcd/pkg/chartutil
// ChartValuesFromReferences): each valuesFrom entry in order is merged over the result; an entry with a
// targetPath first merges spec.values in and then sets that one path; spec.values is merged last.
// A missing ConfigMap/Secret or key fails unless the entry is optional, as in Flux.
import { SourceError } from '../errors.ts';
import { mergeValues, parseValuesYaml, setValueAtPath, type HelmValues } from '../helm-values.ts';
import { isRecord, objectName } from '../object-fields.ts';
import type { ObjectReader } from '../types.ts';
import type { HelmReleaseObject, ValuesReference } from './objects.ts';

const readData = async (
  reader: ObjectReader,
  namespace: string,
  ref: ValuesReference,
  where: string,
): Promise<string | undefined> => {
  if (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret')
    throw new SourceError(
      'InvalidObject',
      `${where}: valuesFrom kind "${ref.kind}" is not ConfigMap or Secret`,
    );
  const object: unknown = await reader.get('v1', ref.kind, namespace, ref.name);
  const name = objectName(ref.kind, namespace, ref.name);
  if (object === undefined) {
    if (ref.optional) return undefined;
    throw new SourceError('NotFound', `${where}: valuesFrom ${name} does not exist`);
  }
  const data = isRecord(object) && isRecord(object.data) ? object.data[ref.valuesKey] : undefined;
  if (typeof data !== 'string') {
    if (ref.optional) return undefined;
    throw new SourceError('NotFound', `${where}: valuesFrom ${name} has no key "${ref.valuesKey}"`);
  }
  return ref.kind === 'Secret' ? Buffer.from(data, 'base64').toString('utf8') : data;
};

export const composeHelmReleaseValues = async (
  release: HelmReleaseObject,
  reader: ObjectReader,
): Promise<HelmValues> => {
  let result: HelmValues = {};
  for (const ref of release.valuesFrom) {
    const data = await readData(reader, release.namespace, ref, release.where);
    if (data === undefined) continue;
    try {
      if (ref.targetPath !== undefined) {
        result = mergeValues(result, release.values);
        // literal: verbatim string; quoted: the quotes trimmed, a string; otherwise typed as --set.
        const quoted = !ref.literal && /^(["']).*\1$/s.test(data);
        const value = quoted ? data.replace(/^["']+|["']+$/g, '') : data;
        result = setValueAtPath(result, ref.targetPath, value, ref.literal || quoted);
      } else {
        result = mergeValues(result, parseValuesYaml(data));
      }
    } catch (cause) {
      throw new SourceError(
        'InvalidObject',
        `${release.where}: valuesFrom ${ref.kind}/${ref.name} key "${ref.valuesKey}" cannot be merged`,
        { cause },
      );
    }
  }
  return mergeValues(result, release.values);
};
