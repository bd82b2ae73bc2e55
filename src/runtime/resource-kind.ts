// Which Kubernetes resource an informer or a discovery check is about: group, version and plural are
// what the API server routes on; kind is what objects carry. Paths are built here and nowhere else.
export interface ResourceKind {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** `v1` for the core group, `group/version` otherwise. */
export const apiVersionOf = (kind: Pick<ResourceKind, 'group' | 'version'>): string =>
  kind.group === '' ? kind.version : `${kind.group}/${kind.version}`;

/** `/api/v1` for the core group, `/apis/group/version` otherwise. */
export const groupVersionPath = (kind: Pick<ResourceKind, 'group' | 'version'>): string =>
  kind.group === '' ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;

/** The collection path of a kind: cluster-wide, or in one namespace for namespaced kinds. */
export const collectionPath = (kind: ResourceKind, namespace?: string): string => {
  const scope =
    kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(kind)}${scope}/${kind.plural}`;
};
