// The operator's NODE_OPTIONS as config/manager/deployment.yaml sets them, so the bench runs the operator
// with the heap limits it has in its Pod (node would otherwise size V8's heap from the machine's memory).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { projectRoot } from '../../test/env/paths.ts';

interface Deployment {
  kind?: string;
  spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
}

export const deploymentNodeOptions = async (): Promise<string | undefined> => {
  const text = await readFile(join(projectRoot, 'config', 'manager', 'deployment.yaml'), 'utf8');
  const deployment = (loadAllYaml(text) as Deployment[]).find((d) => d?.kind === 'Deployment');
  const env = deployment?.spec?.template?.spec?.containers?.flatMap((c) => c.env ?? []) ?? [];
  return env.find((e) => e.name === 'NODE_OPTIONS')?.value;
};
