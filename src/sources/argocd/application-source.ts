// One item of an Argo CD Application's spec.source / spec.sources as the adapters read it, and the Helm
// values it deploys a chart with: helm.valuesObject, else helm.values (YAML), then helm.parameters; the
// valueFiles and fileParameters live in a repository and are only noted.
import { SourceError } from '../errors.ts';
import { parseValuesYaml, setValueAtPath, type HelmValues } from '../helm-values.ts';
import type { FieldReader } from '../object-fields.ts';

export interface ApplicationSource {
  readonly index: number | undefined;
  readonly reader: FieldReader;
  readonly repoURL: string;
  readonly chart?: string;
  readonly targetRevision?: string;
}

export const helmValuesOf = (
  source: ApplicationSource,
  where: string,
): { values?: HelmValues; notes: string[] } => {
  const helm = source.reader.optionalObject('helm');
  if (!helm) return { notes: [] };
  const notes: string[] = [];
  let values: HelmValues;
  try {
    values = helm.optionalRecord('valuesObject') ?? parseValuesYaml(helm.optionalString('values') ?? '');
  } catch (cause) {
    throw new SourceError('InvalidObject', `${where}: helm.values is not a YAML map`, { cause });
  }
  for (const parameter of helm.objects('parameters')) {
    const name = parameter.string('name');
    try {
      values = setValueAtPath(
        values,
        name,
        parameter.optionalString('value') ?? '',
        parameter.boolean('forceString'),
      );
    } catch (cause) {
      throw new SourceError('InvalidObject', `${where}: helm parameter "${name}" has an invalid path`, {
        cause,
      });
    }
  }
  const valueFiles = (source.reader.optionalRecord('helm') ?? {}).valueFiles;
  if (Array.isArray(valueFiles) && valueFiles.length > 0)
    notes.push(`helm.valueFiles (${valueFiles.length}) are files in a repository and are not included`);
  if (helm.objects('fileParameters').length > 0)
    notes.push('helm.fileParameters are files in a repository and are not included');
  return { values, notes };
};
