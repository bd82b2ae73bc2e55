import { describe, expect, it } from 'vitest';
import { caBundleFromSecret, registryCredential } from '../../src/sources/credentials.ts';
import { SourceError, type SourceErrorCode } from '../../src/sources/errors.ts';
import { memoryReader } from './memory-reader.ts';
import { argoRepoSecret, dockerConfigSecret, secret } from './fixtures.ts';

const NS = 'flux-system';
const ref = (name: string) => ({ namespace: NS, name });

const expectCode = async (promise: Promise<unknown>, code: SourceErrorCode): Promise<SourceError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  expect((error as SourceError).code).toBe(code);
  return error as SourceError;
};

describe('registryCredential', () => {
  const reader = memoryReader([
    dockerConfigSecret(NS, 'other-host', { 'ghcr.io': { username: 'g', password: 'gp' } }),
    dockerConfigSecret(NS, 'regcred', { 'registry.example.com:5000': { username: 'flux', password: 'pw1' } }),
    secret(NS, 'helm-basic', { username: 'helm', password: 'pw2' }),
    secret(NS, 'half', { username: 'helm' }),
    secret(NS, 'broken', { '.dockerconfigjson': '{not json' }, { type: 'kubernetes.io/dockerconfigjson' }),
    argoRepoSecret('argocd', 'repo', 'repository', {
      url: 'registry.example.com:5000/charts',
      username: 'argo',
      password: 'pw3',
    }),
  ]);

  it('is anonymous for an anonymous source', async () => {
    expect(await registryCredential({ kind: 'anonymous' }, 'registry.example.com:5000', reader)).toEqual({
      kind: 'anonymous',
    });
  });

  it('takes the first dockerconfigjson Secret with an entry for the registry', async () => {
    const source = { kind: 'dockerconfigjson', secrets: [ref('other-host'), ref('regcred')] } as const;
    expect(await registryCredential(source, 'registry.example.com:5000', reader)).toEqual({
      kind: 'basic',
      username: 'flux',
      password: 'pw1',
    });
    expect(await registryCredential(source, 'quay.io', reader)).toEqual({ kind: 'anonymous' });
  });

  it('reads a Flux HelmRepository Secret as username/password or as dockerconfigjson', async () => {
    expect(
      await registryCredential({ kind: 'basic', secret: ref('helm-basic') }, 'r.example.com', reader),
    ).toEqual({
      kind: 'basic',
      username: 'helm',
      password: 'pw2',
    });
    expect(
      await registryCredential(
        { kind: 'basic', secret: ref('regcred') },
        'registry.example.com:5000',
        reader,
      ),
    ).toMatchObject({ username: 'flux' });
    await expectCode(
      registryCredential({ kind: 'basic', secret: ref('half') }, 'r.example.com', reader),
      'InvalidObject',
    );
  });

  it('reads an Argo CD repository Secret', async () => {
    expect(
      await registryCredential(
        { kind: 'argocd', secret: { namespace: 'argocd', name: 'repo' } },
        'registry.example.com:5000',
        reader,
      ),
    ).toEqual({ kind: 'basic', username: 'argo', password: 'pw3' });
  });

  it('waits for a missing Secret and stalls on a malformed one without echoing its content', async () => {
    await expectCode(
      registryCredential({ kind: 'basic', secret: ref('absent') }, 'r.example.com', reader),
      'NotFound',
    );
    const error = await expectCode(
      registryCredential({ kind: 'dockerconfigjson', secrets: [ref('broken')] }, 'r.example.com', reader),
      'InvalidObject',
    );
    expect(error.message).not.toContain('{not json');
    await expectCode(
      registryCredential({ kind: 'dockerconfigjson', secrets: [ref('helm-basic')] }, 'r.example.com', reader),
      'InvalidObject',
    );
  });
});

describe('caBundleFromSecret', () => {
  it('returns ca.crt (or the legacy caFile) and refuses client certificates', async () => {
    const reader = memoryReader([
      secret(NS, 'ca', { 'ca.crt': '-----BEGIN CERTIFICATE-----\nA\n' }),
      secret(NS, 'legacy', { caFile: '-----BEGIN CERTIFICATE-----\nB\n' }),
      secret(NS, 'mtls', { 'ca.crt': 'x', 'tls.crt': 'y', 'tls.key': 'z' }),
      secret(NS, 'empty', {}),
    ]);
    expect(await caBundleFromSecret(ref('ca'), reader)).toContain('\nA\n');
    expect(await caBundleFromSecret(ref('legacy'), reader)).toContain('\nB\n');
    await expectCode(caBundleFromSecret(ref('mtls'), reader), 'Unsupported');
    await expectCode(caBundleFromSecret(ref('empty'), reader), 'InvalidObject');
  });
});
