// The operator: informers on ArtifactVerifications and on the GitOps kinds that are installed, one work
// queue keyed by CR, the shared digest poller, and the reconciler. Start and stop only; leader election
// and the process (signals, endpoints) are the caller's. Startup recovers every hold from the cluster
// itself: each CR is reconciled once, and its status and the targets' annotations say what is held.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { reuseConnections } from '../runtime/kube-connections.ts';
import type { Logger } from 'pino';
import {
  ANNOTATIONS,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type ArtifactVerification,
} from '../api/artifact-verification.ts';
import type { OperatorConfig } from '../config/operator-config.ts';
import { HoldManager } from '../enforce/holds.ts';
import { EventRecorder } from '../observability/event-recorder.ts';
import { registryRequestObserver, type OperatorMetrics } from '../observability/metrics.ts';
import { discoverInstalledKinds } from '../runtime/discovery.ts';
import { Informer, type InformerEvent } from '../runtime/informer.ts';
import type { ResourceKind } from '../runtime/resource-kind.ts';
import { WorkQueue } from '../runtime/work-queue.ts';
import { createRevocationHttp } from '../registry/revocation-http.ts';
import { RevocationChecker } from '../verify/notation/revocation/revocation.ts';
import { ArtifactChecker } from './artifact-checker.ts';
import { KubeChildStore } from './child-store.ts';
import { KubeClusterAccess } from './cluster-access.ts';
import { parentKeyOf } from './fanout/child-plan.ts';
import { HelmRepositoryFanout } from './helm-repository-fanout.ts';
import { DigestPoller, type PushMatch } from './digest-poller.ts';
import { DependencyIndex } from './dependency-index.ts';
import { KubeObjectReader, type ObjectCache } from './object-reader.ts';
import { ArtifactVerificationReconciler } from './reconciler.ts';
import { LiveRenders } from '../scan/helm/live-renders.ts';
import { HelmRepositories } from './helm-repositories.ts';
import { RegistryAccess, describePollKey } from './registry-access.ts';
import { SourceLoader } from './source-loader.ts';
import { TargetHolder } from './target-holder.ts';
import { ownsNamespace } from './ownership.ts';

export const ARTIFACT_VERIFICATION_KIND: ResourceKind = {
  group: GROUP,
  version: VERSION,
  plural: PLURAL,
  kind: KIND,
  namespaced: true,
};

/** GitOps kinds whose changes (a revert of a hold, a new ref) wake the CRs that point at them. */
export const GITOPS_KINDS: readonly ResourceKind[] = [
  {
    group: 'source.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'ocirepositories',
    kind: 'OCIRepository',
    namespaced: true,
  },
  {
    group: 'source.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'helmcharts',
    kind: 'HelmChart',
    namespaced: true,
  },
  {
    group: 'source.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'helmrepositories',
    kind: 'HelmRepository',
    namespaced: true,
  },
  {
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    plural: 'helmreleases',
    kind: 'HelmRelease',
    namespaced: true,
  },
  {
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'kustomizations',
    kind: 'Kustomization',
    namespaced: true,
  },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'applications',
    kind: 'Application',
    namespaced: true,
  },
];

export interface Operator {
  readonly ready: () => boolean;
  stop(): Promise<void>;
  /** Kills every helm render still running and removes its directory (synchronous: for an 'exit' handler). */
  killRenders(): void;
  /** A registry announced these pushes: resolve the poll keys they concern now. Returns how many matched. */
  trigger(pushes: readonly PushMatch[]): number;
}

const keyOf = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Spec or annotation changes and deletions wake a reconcile; status-only updates (our own writes) do not. */
export const meaningfulChange = (event: InformerEvent<KubernetesObject>): boolean => {
  if (event.type !== 'update' || !event.old) return true;
  const [a, b] = [event.old.metadata, event.object.metadata];
  return (
    a?.generation !== b?.generation ||
    JSON.stringify(a?.annotations ?? {}) !== JSON.stringify(b?.annotations ?? {}) ||
    JSON.stringify(a?.labels ?? {}) !== JSON.stringify(b?.labels ?? {}) ||
    a?.deletionTimestamp !== b?.deletionTimestamp ||
    JSON.stringify(a?.finalizers ?? []) !== JSON.stringify(b?.finalizers ?? [])
  );
};

export const startOperator = async (options: {
  config: OperatorConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  metrics: OperatorMetrics;
  now?: () => Date;
}): Promise<Operator> => {
  const { config, kubeConfig, logger, metrics } = options;
  reuseConnections(kubeConfig);
  const now = options.now ?? (() => new Date());
  const installed = await discoverInstalledKinds(kubeConfig, [ARTIFACT_VERIFICATION_KIND, ...GITOPS_KINDS]);
  if (!installed.some((k) => k.kind === KIND))
    throw new Error(`the ${PLURAL}.${GROUP} CRD is not installed: apply crds/ first`);
  const gitopsKinds = installed.filter((k) => k.kind !== KIND);
  logger.info({ kinds: gitopsKinds.map((k) => k.kind) }, 'GitOps kinds served by the API server');

  const queue = new WorkQueue({
    concurrency: config.concurrency,
    logger: logger.child({ component: 'workqueue' }),
    onDepth: (depth) => metrics.workqueueDepth.set(depth),
  });
  const crs = new Informer<ArtifactVerification & KubernetesObject>(kubeConfig, {
    kind: ARTIFACT_VERIFICATION_KIND,
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
    ...(config.watchLabelSelector ? { labelSelector: config.watchLabelSelector.text } : {}),
    // The informer names itself in its log lines (plural.group).
    logger,
  });
  const caches = new Map<string, ObjectCache>();
  const gitops = gitopsKinds.map((kind) => {
    const informer = new Informer<KubernetesObject>(kubeConfig, {
      kind,
      logger,
    });
    caches.set(`${kind.group}/${kind.version}/${kind.kind}`, informer);
    return { kind, informer };
  });

  const cluster = new KubeClusterAccess(kubeConfig, {
    get: (namespace, name) => crs.get(namespace, name),
  });
  const dependencies = new DependencyIndex();
  const helmRepositories = new HelmRepositories({
    onIndexPoll: (host, result, bytes) => {
      metrics.helmIndexPolls.inc({ host, result });
      if (bytes > 0) metrics.helmIndexBytes.inc({ host }, bytes);
    },
  });
  const registries = new RegistryAccess({
    onRequest: registryRequestObserver(metrics),
    requestsPerSecond: config.registryQps,
    requestTimeoutMs: config.registryRequestTimeoutMs,
    operationTimeoutMs: config.registryOperationTimeoutMs,
  });
  // OCSP and CRL of Notary Project chains (notation-core-go waits 2 s for OCSP, 5 s for a CRL).
  const revocationHttp = createRevocationHttp({ timeoutMs: 5_000, userAgent: 'tagguard' });
  const revocation = new RevocationChecker(revocationHttp);
  const poller = new DigestPoller({
    onChange: (subscribers) => subscribers.forEach((s) => queue.add(s)),
    describe: describePollKey,
    onTriggeredResolve: () => metrics.webhookTriggeredResolves.inc(),
  });
  // helm renders in flight, so that nothing of a render outlives the operator, whatever way it stops.
  const liveRenders = new LiveRenders();
  const holder = new TargetHolder(new HoldManager(kubeConfig, logger.child({ component: 'enforce' })), now);
  const sources = new SourceLoader({
    reader: new KubeObjectReader(kubeConfig, caches, dependencies),
    config,
  });
  const events = new EventRecorder(kubeConfig, {
    instance: config.identity,
    logger: logger.child({ component: 'events' }),
  });
  const reconciler = new ArtifactVerificationReconciler({
    config,
    cluster,
    sources,
    registries,
    helmRepositories,
    poller,
    checker: new ArtifactChecker({
      cluster,
      helmBinary: config.helmBinary,
      kubeVersion: config.kubeVersion,
      now,
      onChecked: (seconds) => metrics.verificationDuration.observe(seconds),
      revocation,
      liveRenders,
      watchedObjects: () => crs.size,
    }),
    holder,
    fanout: new HelmRepositoryFanout({
      cluster,
      children: new KubeChildStore(kubeConfig),
      sources,
      events,
      logger,
      now,
    }),
    events,
    metrics,
    logger,
    now,
  });

  crs.onEvent((event) => {
    if (event.type === 'delete') dependencies.forget(keyOf(event.object));
    if (meaningfulChange(event)) queue.add(keyOf(event.object));
    // A child of a HelmRepository parent: any change, its status too, or its deletion, changes the
    // parent's summary (and lets a parent being deleted finish).
    const parent = parentKeyOf(event.object);
    if (parent !== undefined) queue.add(parent);
  });
  for (const { kind, informer } of gitops)
    informer.onEvent((event) => {
      if (!meaningfulChange(event)) return;
      const object = event.object;
      const heldBy = object.metadata?.annotations?.[ANNOTATIONS.heldBy];
      const heldByOld = event.old?.metadata?.annotations?.[ANNOTATIONS.heldBy];
      // Targets are watched cluster-wide: a holder in another instance's namespace is not ours to wake
      // (the reconcile checks labels too, which need the CR).
      for (const holderKey of `${heldBy ?? ''},${heldByOld ?? ''}`.split(',').filter(Boolean))
        if (ownsNamespace(config, holderKey.split('/')[0])) queue.add(holderKey);
      // CRs whose last reconcile read this object, or listed its kind in its namespace (a Kustomization or
      // HelmRelease that starts consuming a watched source changes the targets).
      const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
      const { namespace = '', name = '' } = object.metadata ?? {};
      for (const cr of dependencies.dependents(apiVersion, kind.kind, namespace, name)) queue.add(cr);
    });

  await Promise.all([crs.start(), ...gitops.map((g) => g.informer.start())]);
  queue.start(async (key) => {
    const [namespace = '', name = ''] = key.split('/');
    const result = await dependencies.track(key, () => reconciler.reconcile(namespace, name));
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : {};
  });
  for (const cr of crs.list()) queue.add(keyOf(cr));
  logger.info({ artifactVerifications: crs.list().length }, 'operator started');

  return {
    ready: () => crs.hasSynced && gitops.every((g) => g.informer.hasSynced),
    killRenders: () => liveRenders.killAll(),
    trigger: (pushes) => pushes.reduce((matched, push) => matched + poller.trigger(push), 0),
    stop: async () => {
      poller.stop();
      await Promise.all([crs.stop(), ...gitops.map((g) => g.informer.stop())]);
      await queue.shutdown();
      liveRenders.killAll();
      await registries.close();
      await helmRepositories.close();
      await revocationHttp.close();
    },
  };
};
