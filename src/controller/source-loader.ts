// From an ArtifactVerification's spec to what the controller watches and holds: sourceRef objects are
// read through the sources adapters (Flux, Argo CD), which parse each URL once; a raw spec.artifact stands
// alone (nothing to hold) and its URL is parsed here. Credentials and CA material are read from Secrets
// here, so the registry layer only sees data.
import type { ArtifactVerification } from '../api/artifact-verification.ts';
import type { OperatorConfig } from '../config/operator-config.ts';
import type { Credential } from '../registry/credentials.ts';
import { RegistryError } from '../registry/errors.ts';
import { repositoryReference } from '../registry/reference.ts';
import {
  resolveHelmRepository,
  resolveSource,
  type HelmRepositorySource,
} from '../sources/resolve-source.ts';
import { caBundleFromSecret, helmRepositoryAuth, registryCredential } from '../sources/credentials.ts';
import { SourceError } from '../sources/errors.ts';
import {
  isHelmChart,
  type ObjectReader,
  type SecretRef,
  type SourceArtifact,
  type TargetRef,
  type WatchedArtifact,
  type WatchedHelmChart,
} from '../sources/types.ts';
import { parseRepositoryUrl } from '../registry/helm-repository/repository-url.ts';
import { isHelmRepositoryError } from '../registry/helm-repository/errors.ts';
import { helmAccessId, helmChartUrl, type HelmChartAccess } from './helm-repositories.ts';
import { compileRe2 } from '../re2-pattern.ts';
import { stalled, waiting } from './reconcile-error.ts';
import { Reason } from '../api/conditions.ts';
import { credentialId, type ArtifactAccess } from './registry-access.ts';

export interface LoadedArtifact {
  readonly access: ArtifactAccess | HelmChartAccess;
  readonly helmValues?: Record<string, unknown>;
  readonly origin: string;
}

export interface LoadedSource {
  readonly artifacts: readonly LoadedArtifact[];
  readonly targets: readonly TargetRef[];
}

const SOURCE_RETRY_MS = 15_000;

export class SourceLoader {
  private readonly reader: ObjectReader;
  private readonly config: OperatorConfig;

  constructor(options: { reader: ObjectReader; config: OperatorConfig }) {
    this.reader = options.reader;
    this.config = options.config;
  }

  async load(object: ArtifactVerification): Promise<LoadedSource> {
    const namespace = object.metadata.namespace ?? '';
    if (object.spec.artifact) {
      const a = object.spec.artifact;
      let reference;
      try {
        reference = repositoryReference(a.url);
      } catch (error) {
        throw stalled(Reason.InvalidSpec, `spec.artifact: ${(error as Error).message}`, error);
      }
      const watched: WatchedArtifact = {
        url: a.url,
        reference,
        ...(a.tag !== undefined ? { tag: a.tag } : {}),
        ...(a.semver !== undefined ? { semver: a.semver } : {}),
        ...(a.digest !== undefined ? { digest: a.digest } : {}),
        credentials: a.secretRef
          ? { kind: 'dockerconfigjson', secrets: [{ namespace, name: a.secretRef.name }] }
          : { kind: 'anonymous' },
        insecure: a.insecure ?? false,
        tlsSkipVerify: false,
        ...(a.certSecretRef ? { caSecret: { namespace, name: a.certSecretRef.name } } : {}),
        origin: 'spec.artifact',
      };
      return { artifacts: [await this.access(watched)], targets: [] };
    }
    const ref = object.spec.sourceRef;
    if (!ref) throw stalled(Reason.InvalidSpec, 'spec needs exactly one of sourceRef or artifact');
    const resolved = await this.resolve(() =>
      resolveSource(ref, namespace, this.reader, this.resolveOptions()),
    );
    const artifacts: LoadedArtifact[] = [];
    for (const watched of resolved.artifacts) artifacts.push(await this.access(watched));
    return { artifacts, targets: resolved.targets };
  }

  /**
   * sourceRef HelmRepository: the repository and its consumers (sources/resolve-source.ts), read through
   * the same reader as load(), so the dependency index wakes the CR when a consumer appears or goes.
   */
  async loadConsumers(object: ArtifactVerification): Promise<HelmRepositorySource> {
    const ref = object.spec.sourceRef;
    if (ref?.kind !== 'HelmRepository')
      throw stalled(Reason.InvalidSpec, 'loadConsumers needs a sourceRef of kind HelmRepository');
    return this.resolve(() =>
      resolveHelmRepository(ref, object.metadata.namespace ?? '', this.reader, this.resolveOptions()),
    );
  }

  private resolveOptions(): { allowCrossNamespace: boolean; argocdNamespace: string } {
    return {
      allowCrossNamespace: this.config.allowCrossNamespaceRefs,
      argocdNamespace: this.config.argocdNamespace,
    };
  }

  /** A SourceError as the reconcile error it means: NotFound waits, the others stall. */
  private async resolve<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      const reason =
        error.code === 'NotFound'
          ? Reason.SourceNotFound
          : error.code === 'CrossNamespaceForbidden'
            ? Reason.CrossNamespaceRefForbidden
            : Reason.UnsupportedSource;
      throw error.stalled
        ? stalled(reason, error.message, error)
        : waiting(reason, error.message, SOURCE_RETRY_MS, error);
    }
  }

  private async access(watched: SourceArtifact): Promise<LoadedArtifact> {
    if (isHelmChart(watched)) return this.helmChartAccess(watched);
    if (watched.tlsSkipVerify)
      throw stalled(
        Reason.UnsupportedSource,
        `${watched.origin}: TLS without certificate verification is not supported; give the registry's CA instead`,
      );
    if (watched.semverFilter !== undefined) {
      // Flux stalls on a filter Go's regexp refuses; so does tagguard, rather than pick another tag.
      try {
        compileRe2(watched.semverFilter);
      } catch (error) {
        throw stalled(
          Reason.InvalidSpec,
          `${watched.origin}: ref.semverFilter: ${(error as Error).message}`,
          error,
        );
      }
    }
    const credential = await this.credential(watched, watched.reference.registry);
    const caPem = watched.caSecret ? await this.caPem(watched.caSecret, watched.origin) : undefined;
    const access: ArtifactAccess = {
      url: watched.url,
      reference: watched.reference,
      ...(watched.tag !== undefined ? { tag: watched.tag } : {}),
      ...(watched.semver !== undefined ? { semver: watched.semver } : {}),
      ...(watched.semverRule !== undefined ? { semverRule: watched.semverRule } : {}),
      ...(watched.semverFilter !== undefined ? { semverFilter: watched.semverFilter } : {}),
      ...(watched.digest !== undefined ? { digest: watched.digest } : {}),
      insecure: watched.insecure,
      ...(caPem !== undefined ? { caPem } : {}),
      credential,
      credentialId: credentialId(credential),
    };
    return {
      access,
      ...(watched.helmValues ? { helmValues: watched.helmValues } : {}),
      origin: watched.origin,
    };
  }

  /** A chart of an HTTP(S) Helm repository: its URL checked as helm reads it, its Secrets read. */
  private async helmChartAccess(watched: WatchedHelmChart): Promise<LoadedArtifact> {
    if (watched.tlsSkipVerify)
      throw stalled(
        Reason.UnsupportedSource,
        `${watched.origin}: TLS without certificate verification is not supported; give the repository's CA instead`,
      );
    let host: string;
    try {
      host = parseRepositoryUrl(watched.repositoryUrl).host;
    } catch (error) {
      if (!isHelmRepositoryError(error)) throw error;
      throw stalled(Reason.InvalidSpec, `${watched.origin}: ${error.message}`, error);
    }
    let auth;
    try {
      auth = await helmRepositoryAuth(watched.credentials, watched.tlsSecret, this.reader);
    } catch (error) {
      throw this.sourceFailure(error, watched.origin);
    }
    const access: HelmChartAccess = {
      kind: 'helm-http',
      url: helmChartUrl(watched.repositoryUrl, watched.chart),
      repositoryUrl: watched.repositoryUrl,
      host,
      chart: watched.chart,
      ...(watched.version !== undefined ? { version: watched.version } : {}),
      ...(watched.semver !== undefined ? { semver: watched.semver } : {}),
      ...(watched.semverRule !== undefined ? { semverRule: watched.semverRule } : {}),
      auth,
      passCredentials: watched.passCredentials,
      credentialId: helmAccessId(watched.repositoryUrl, auth, watched.passCredentials),
    };
    return {
      access,
      ...(watched.helmValues ? { helmValues: watched.helmValues } : {}),
      origin: watched.origin,
    };
  }

  private async credential(watched: WatchedArtifact, registry: string): Promise<Credential> {
    try {
      return await registryCredential(watched.credentials, registry, this.reader);
    } catch (error) {
      throw this.sourceFailure(error, watched.origin);
    }
  }

  private async caPem(ref: SecretRef, origin: string): Promise<string | undefined> {
    try {
      return await caBundleFromSecret(ref, this.reader);
    } catch (error) {
      throw this.sourceFailure(error, origin);
    }
  }

  private sourceFailure(error: unknown, origin: string): unknown {
    if (error instanceof SourceError)
      return error.stalled
        ? stalled(Reason.TrustMaterialMissing, `${origin}: ${error.message}`, error)
        : waiting(Reason.TrustMaterialMissing, `${origin}: ${error.message}`, SOURCE_RETRY_MS, error);
    if (error instanceof RegistryError)
      return stalled(Reason.InvalidSpec, `${origin}: ${error.message}`, error);
    return error;
  }
}
