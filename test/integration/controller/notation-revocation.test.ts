// The operator with a Notation signer whose signing certificate is revoked after the chart was trusted:
// an openssl CA with a CRL served over HTTP, the chart signed by the real notation CLI, the trust store in
// a Secret, the operator in-process under config/rbac. A requested re-check re-verifies (reading the CRL
// afresh), finds the certificate revoked and holds the OCIRepository.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { avObject, condition, requestCheck, waitForAv, judged } from '../../env/av.ts';
import { packageChart } from '../../env/charts.ts';
import { serveFile, type FileServer } from '../../env/file-server.ts';
import { KubeTestClient } from '../../env/kube.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { OpensslCa, type Issued } from '../../env/openssl-ca.ts';
import { startInProcessOperator } from '../../env/operator.ts';
import { addNotationSigningKey, signNotation } from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import type { RunningOperator } from '../../../src/cli/run-command.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = `rev-${Math.random().toString(36).slice(2, 7)}`;

describe('operator: a Notation signing certificate revoked after its chart was trusted', () => {
  let kube: KubeTestClient;
  let home: ToolHome;
  let operator: RunningOperator;
  let crl: FileServer;
  let ca: OpensslCa;
  let leaf: Issued;
  let chart: PushedArtifact;

  beforeAll(async () => {
    kube = KubeTestClient.fromFile(env.kubeconfig);
    home = await createToolHome(env);
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-op-revocation-'));
    crl = await serveFile('/release-ca.crl', 'application/pkix-crl');
    ca = await OpensslCa.create(dir, 'release-ca');
    leaf = await ca.issue('release', { subject: '/C=US/ST=WA/O=Acme/CN=release', crlUrls: [crl.url] });
    crl.set(await ca.crl());
    const caPem = await readFile(ca.ca.certFile, 'utf8');
    await addNotationSigningKey(
      home,
      'release',
      leaf.keyFile,
      `${await readFile(leaf.certFile, 'utf8')}${caPem}`,
    );
    chart = await pushChart(
      home,
      registry,
      `${ns}-charts`,
      await packageChart(home, dir, { name: 'billing', version: '4.2.0' }),
    );
    await signNotation(home, registry, chart, 'cose', { key: 'release', referrersApi: true });

    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'notation-ca', namespace: ns },
      stringData: { 'ca.crt': caPem },
    } as KubernetesObject);
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'billing', namespace: ns },
      spec: { url: `oci://${chart.repository}`, ref: { tag: '4.2.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
  });

  afterAll(async () => {
    await operator?.shutdown('test done');
    await crl?.close();
  });

  it('trusts the chart, then holds the OCIRepository once the CA revokes the certificate and a re-check is asked for', async () => {
    await kube.apply(
      avObject(ns, 'billing', {
        sourceRef: { kind: 'OCIRepository', name: 'billing' },
        interval: '10m',
        verify: {
          notation: [
            {
              name: 'acme-release',
              trustStore: { secretRef: { name: 'notation-ca' } },
              trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme, CN=release'],
            },
          ],
        },
      }),
    );
    const trusted = await waitForAv(
      kube,
      ns,
      'billing',
      'Ready=True',
      (o) => condition(o, 'Ready')?.status === 'True',
    );
    expect(trusted.status?.trustedDigest).toBe(chart.digest);
    expect(trusted.status?.signers).toMatchObject([
      { name: 'acme-release', type: 'notation', format: 'notation-cose' },
    ]);

    await ca.revoke(leaf, { reason: 'keyCompromise' });
    crl.set(await ca.crl());
    await requestCheck(kube, ns, 'billing');
    const held = await waitForAv(
      kube,
      ns,
      'billing',
      'Held=True',
      (o) => condition(o, 'Held')?.status === 'True' && judged(o),
    );
    expect(condition(held, 'Verified')).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
    expect(condition(held, 'Verified')?.message).toContain('revoked');
    expect(condition(held, 'TagMutated')?.status).not.toBe('True'); // same digest: a trust failure, not a mutation
    const repo = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'billing',
      ns,
    );
    expect(repo.spec.suspend).toBe(true);
  });
});
