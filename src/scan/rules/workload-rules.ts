// Rules over pod specs: every container list (init, regular, ephemeral), the pod's host namespaces,
// volumes and security contexts.
import { posix } from 'node:path';
import type { Finding } from '../../api/artifact-verification.ts';
import type { KubeObject } from '../manifests.ts';
import { CONTAINER_LISTS, podSpecOf } from './pod-specs.ts';
import { dig, record, records, resourceOf, strings, type Json } from './object-access.ts';
import { RULES, type RuleId } from './rule-catalog.ts';

const DANGEROUS_CAPABILITIES: ReadonlySet<string> = new Set([
  'ALL',
  'SYS_ADMIN',
  'SYS_MODULE',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_BOOT',
  'NET_ADMIN',
  'BPF',
  'PERFMON',
  'DAC_READ_SEARCH',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'SYSLOG',
]);

const RUNTIME_SOCKETS = [
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/run/containerd/containerd.sock',
  '/run/containerd/containerd.sock',
  '/var/run/crio/crio.sock',
  '/run/crio/crio.sock',
  '/var/run/cri-dockerd.sock',
  '/run/cri-dockerd.sock',
  '/run/k3s/containerd/containerd.sock',
  '/run/podman/podman.sock',
] as const;

const PINNED_IMAGE = /@sha(256|384|512):[0-9a-f]{32,}$/;

/** True when the host path is a runtime socket or a directory that holds one ("/", "/var/run", …). */
export const exposesRuntimeSocket = (hostPath: string): boolean => {
  const path = posix.normalize(`/${hostPath}`).replace(/\/+$/, '') || '/';
  return path === '/' || RUNTIME_SOCKETS.some((socket) => socket === path || socket.startsWith(`${path}/`));
};

type Emit = (rule: RuleId, path: string, message: string) => void;

const checkPod = (pod: Json, at: string, emit: Emit): void => {
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[field] === true) {
      const rule = field === 'hostNetwork' ? 'host-network' : field === 'hostPID' ? 'host-pid' : 'host-ipc';
      emit(rule, `${at}.${field}`, `pod sets ${field}: true`);
    }
  }
  records(pod.volumes).forEach((volume, i) => {
    const hostPath = record(volume.hostPath);
    if (!hostPath) return;
    const path = typeof hostPath.path === 'string' ? hostPath.path : '';
    const name = typeof volume.name === 'string' ? volume.name : `#${i}`;
    emit('host-path-volume', `${at}.volumes[${i}].hostPath`, `volume "${name}" mounts host path "${path}"`);
    if (exposesRuntimeSocket(path)) {
      emit(
        'container-runtime-socket',
        `${at}.volumes[${i}].hostPath.path`,
        `volume "${name}" mounts "${path}", which exposes the container runtime socket`,
      );
    }
  });
};

const checkContainer = (container: Json, pod: Json, at: string, emit: Emit): void => {
  const name = typeof container.name === 'string' ? container.name : '<unnamed>';
  const image = typeof container.image === 'string' ? container.image : '';
  const who = `container "${name}"${image ? ` (${image})` : ''}`;
  const security = record(container.securityContext) ?? {};
  const podSecurity = record(pod.securityContext) ?? {};

  if (security.privileged === true) {
    emit('privileged-container', `${at}.securityContext.privileged`, `${who} runs privileged`);
  }
  strings(dig(security, 'capabilities', 'add')).forEach((capability, j) => {
    const normalised = capability.toUpperCase().replace(/^CAP_/, '');
    if (DANGEROUS_CAPABILITIES.has(normalised)) {
      emit(
        'dangerous-capabilities',
        `${at}.securityContext.capabilities.add[${j}]`,
        `${who} adds capability ${normalised}`,
      );
    }
  });
  if (security.allowPrivilegeEscalation === true) {
    emit(
      'privilege-escalation',
      `${at}.securityContext.allowPrivilegeEscalation`,
      `${who} allows privilege escalation`,
    );
  }
  checkRunAsRoot(security, podSecurity, at, who, emit);
  records(container.ports).forEach((port, k) => {
    if (typeof port.hostPort === 'number' && port.hostPort > 0) {
      emit('host-port', `${at}.ports[${k}].hostPort`, `${who} binds host port ${port.hostPort}`);
    }
  });
  if (!PINNED_IMAGE.test(image)) {
    emit('image-not-pinned', `${at}.image`, `${who} image is not pinned by digest`);
  }
};

/** The container's own setting wins over the pod's, as the kubelet applies them. */
const checkRunAsRoot = (security: Json, podSecurity: Json, at: string, who: string, emit: Emit): void => {
  const podAt = at.replace(/\.(initContainers|containers|ephemeralContainers)\[\d+\]$/, '');
  const user = security.runAsUser ?? podSecurity.runAsUser;
  if (user === 0) {
    const where =
      security.runAsUser !== undefined
        ? `${at}.securityContext.runAsUser`
        : `${podAt}.securityContext.runAsUser`;
    emit('run-as-root', where, `${who} runs as UID 0`);
    return;
  }
  if (user !== undefined) return;
  const nonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
  if (nonRoot === false) {
    const where =
      security.runAsNonRoot !== undefined
        ? `${at}.securityContext.runAsNonRoot`
        : `${podAt}.securityContext.runAsNonRoot`;
    emit('run-as-root', where, `${who} sets runAsNonRoot: false and no non-root UID`);
  }
};

export const workloadFindings = (object: KubeObject): Finding[] => {
  const pod = podSpecOf(object);
  if (!pod) return [];
  const resource = resourceOf(object);
  const findings: Finding[] = [];
  const emit: Emit = (rule, path, message) =>
    findings.push({ rule, severity: RULES[rule].severity, resource, path, message });
  checkPod(pod.spec, pod.path, emit);
  for (const list of CONTAINER_LISTS) {
    records(pod.spec[list]).forEach((container, i) =>
      checkContainer(container, pod.spec, `${pod.path}.${list}[${i}]`, emit),
    );
  }
  return findings;
};
