// The child ArtifactVerifications of a HelmRepository parent in the cluster: list them by the parent label,
// create, replace (drift overwritten, guarded by resourceVersion) and delete them (guarded by uid). Only
// children whose controller owner is the parent, or that have none, are listed: another owner's are not ours.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ArtifactVerification } from '../api/artifact-verification.ts';
import { isNotFound, statusCode } from './cluster-access.ts';
import { childSelector, parentKeyOf } from './fanout/child-plan.ts';

export interface ChildStore {
  list(parent: ArtifactVerification): Promise<ArtifactVerification[]>;
  create(child: ArtifactVerification): Promise<void>;
  /**
   * Replaces the child (not its status). false when it changed since it was read (409: its own reconcile
   * wrote it meanwhile): the caller plans again from a fresh list.
   */
  replace(child: ArtifactVerification): Promise<boolean>;
  /** Deletes the child; a child already gone is not an error. */
  delete(child: ArtifactVerification): Promise<void>;
}

/** The children `list` returns: labelled for the parent and owned by it or by nobody (adopted). */
export const isChildOf = (parent: ArtifactVerification, child: ArtifactVerification): boolean => {
  const owner = parentKeyOf(child);
  return owner === undefined || owner === `${parent.metadata.namespace ?? ''}/${parent.metadata.name}`;
};

export class KubeChildStore implements ChildStore {
  private readonly custom: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async list(parent: ArtifactVerification): Promise<ArtifactVerification[]> {
    const list = (await this.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: parent.metadata.namespace ?? '',
      labelSelector: childSelector(parent.metadata.name),
    })) as { items?: ArtifactVerification[] };
    return (list.items ?? []).filter((child) => isChildOf(parent, child));
  }

  async create(child: ArtifactVerification): Promise<void> {
    try {
      await this.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: child.metadata.namespace ?? '',
        body: child,
      });
    } catch (error) {
      // Created by an earlier attempt whose answer was lost: the next list shows it.
      if (statusCode(error) !== 409) throw error;
    }
  }

  async replace(child: ArtifactVerification): Promise<boolean> {
    try {
      await this.custom.replaceNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: child.metadata.namespace ?? '',
        name: child.metadata.name,
        body: child,
      });
      return true;
    } catch (error) {
      if (statusCode(error) === 409) return false;
      throw error;
    }
  }

  async delete(child: ArtifactVerification): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: child.metadata.namespace ?? '',
        name: child.metadata.name,
        propagationPolicy: 'Background',
        body: { preconditions: child.metadata.uid ? { uid: child.metadata.uid } : {} },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
