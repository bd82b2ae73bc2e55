// Flux's source-controller alone (test/env/flux.ts starts it with helm- and kustomize-controller; the
// bench measures source-controller only, so the other two would only add load): the same flags as there,
// watching every namespace, its storage in the run directory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { probe } from '../../test/env/https-get.ts';
import { testbinDir } from '../../test/env/paths.ts';
import { freePort } from '../../test/env/ports.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from '../../test/env/processes.ts';

export const startSourceController = async (
  supervisor: ProcessSupervisor,
  runDir: string,
  kubeconfig: string,
  extraArgs: readonly string[],
): Promise<ServiceHandle> => {
  const storage = join(runDir, 'flux-storage');
  await mkdir(storage, { recursive: true });
  const [storagePort, metricsPort, healthPort] = [await freePort(), await freePort(), await freePort()];
  const storageAddress = `127.0.0.1:${storagePort}`;
  const handle = supervisor.start(
    'source-controller',
    join(testbinDir, 'source-controller'),
    [
      `--storage-path=${storage}`,
      `--storage-addr=${storageAddress}`,
      `--storage-adv-addr=${storageAddress}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      '--enable-leader-election=false',
      '--watch-all-namespaces=true',
      '--events-addr=',
      '--log-encoding=json',
      ...extraArgs,
    ],
    { env: { KUBECONFIG: kubeconfig, RUNTIME_NAMESPACE: 'flux-system' }, cwd: runDir },
  );
  await waitFor(
    'source-controller /readyz',
    async () => ((await probe(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 250, process: handle },
  );
  return handle;
};
