// The ArtifactVerification CRD as the real API server enforces it: invalid objects are rejected with a
// 422 naming the field, defaults are filled in, status lives behind the status subresource and the
// printer columns show what an operator of the cluster needs at a glance.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ApiException,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type ArtifactVerification,
  type ArtifactVerificationStatus,
} from '../../../src/api/artifact-verification.ts';
import { kubectl } from './kubectl.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const namespace = `crd-${Date.now().toString(36)}`;
const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const PEM_KEY =
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n';
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

let counter = 0;
const manifest = (spec: Record<string, unknown>, name = `av-${++counter}`): KubernetesObject =>
  ({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec }) as KubernetesObject;

interface Cause {
  field?: string;
  message?: string;
}

/** Creates the object and returns the API server's rejection (status code and causes); fails if accepted. */
const rejection = async (
  object: KubernetesObject,
): Promise<{ code: number; causes: Cause[]; message: string }> => {
  try {
    await kube.objects.create(object);
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = JSON.parse(String(error.body)) as { message: string; details?: { causes?: Cause[] } };
    return { code: error.code, causes: body.details?.causes ?? [], message: body.message };
  }
  throw new Error(`the API server accepted ${JSON.stringify(object)}`);
};

const sourceRef = { kind: 'OCIRepository', name: 'payment' };
const artifact = { url: 'oci://registry.example.com/charts/payment' };
const keyed = (name: string) => ({ name, publicKey: PEM_KEY });
const PGP_KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n';
const notation = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  trustStore: { secretRef: { name: 'notation-ca' } },
  trustedIdentities: ['x509.subject: C=US, O=Acme, CN=release'],
  ...extra,
});

interface InvalidCase {
  what: string;
  spec?: Record<string, unknown>;
  field: string;
  says: string;
}

const invalidCases: InvalidCase[] = [
  { what: 'no spec at all', field: 'spec', says: 'Required value' },
  {
    what: 'neither sourceRef nor artifact',
    spec: { interval: '1m' },
    field: 'spec',
    says: 'exactly one of spec.sourceRef or spec.artifact',
  },
  {
    what: 'both sourceRef and artifact',
    spec: { sourceRef, artifact },
    field: 'spec',
    says: 'exactly one of spec.sourceRef or spec.artifact',
  },
  {
    what: 'a source kind tagguard does not watch',
    spec: { sourceRef: { kind: 'GitRepository', name: 'x' } },
    field: 'spec.sourceRef.kind',
    says: 'Unsupported value',
  },
  {
    what: 'sourceIndex on a HelmRelease',
    spec: { sourceRef: { kind: 'HelmRelease', name: 'x', sourceIndex: 0 } },
    field: 'spec.sourceRef',
    says: 'sourceIndex is only valid for kind Application',
  },
  {
    what: 'a negative sourceIndex',
    spec: { sourceRef: { kind: 'Application', name: 'x', sourceIndex: -1 } },
    field: 'spec.sourceRef.sourceIndex',
    says: 'greater than or equal to 0',
  },
  {
    what: 'an object name that is not a DNS name',
    spec: { sourceRef: { kind: 'HelmChart', name: 'Payment_Chart' } },
    field: 'spec.sourceRef.name',
    says: 'should match',
  },
  {
    what: 'an artifact URL that is not oci://',
    spec: { artifact: { url: 'https://registry.example.com/charts/payment' } },
    field: 'spec.artifact.url',
    says: 'should match',
  },
  {
    what: 'an artifact URL carrying a tag',
    spec: { artifact: { url: 'oci://registry.example.com/charts/payment:3.1.0' } },
    field: 'spec.artifact.url',
    says: 'should match',
  },
  {
    what: 'both a tag and a digest',
    spec: { artifact: { ...artifact, tag: '3.1.0', digest: DIGEST } },
    field: 'spec.artifact',
    says: 'at most one of artifact.tag, artifact.semver or artifact.digest',
  },
  {
    what: 'a malformed digest',
    spec: { artifact: { ...artifact, digest: 'sha256:abc' } },
    field: 'spec.artifact.digest',
    says: 'should match',
  },
  {
    what: 'a private CA over plain HTTP',
    spec: { artifact: { ...artifact, insecure: true, certSecretRef: { name: 'ca' } } },
    field: 'spec.artifact',
    says: 'certSecretRef cannot be combined with artifact.insecure',
  },
  {
    what: 'an interval below 10s',
    spec: { sourceRef, interval: '5s' },
    field: 'spec.interval',
    says: 'interval must be at least 10s',
  },
  {
    what: 'an interval that is not a Go duration',
    spec: { sourceRef, interval: '1 minute' },
    field: 'spec.interval',
    says: 'should match',
  },
  {
    what: 'verify without any signer',
    spec: { sourceRef, verify: { minSignatures: 1 } },
    field: 'spec.verify',
    says: 'at least one cosign, notation or provenance signer',
  },
  {
    what: 'minSignatures 0',
    spec: { sourceRef, verify: { minSignatures: 0, cosign: [keyed('a')] } },
    field: 'spec.verify.minSignatures',
    says: 'greater than or equal to 1',
  },
  {
    what: 'minSignatures above the number of signers',
    spec: { sourceRef, verify: { minSignatures: 3, cosign: [keyed('a')], notation: [notation('b')] } },
    field: 'spec.verify',
    says: 'minSignatures cannot exceed the number of signer entries',
  },
  {
    what: 'two cosign signers with one name',
    spec: { sourceRef, verify: { cosign: [keyed('a'), keyed('a')] } },
    field: 'spec.verify.cosign[1]',
    says: 'Duplicate value',
  },
  {
    what: 'a cosign and a notation signer with one name',
    spec: { sourceRef, verify: { cosign: [keyed('a')], notation: [notation('a')] } },
    field: 'spec.verify',
    says: 'signer names must be unique',
  },
  {
    what: 'a cosign signer with a key and keyless',
    spec: {
      sourceRef,
      verify: {
        cosign: [
          { ...keyed('a'), keyless: { issuer: 'https://accounts.example.com', subject: 'me@example.com' } },
        ],
      },
    },
    field: 'spec.verify.cosign[0]',
    says: 'exactly one of publicKey, secretRef or keyless',
  },
  {
    what: 'a cosign signer without trust material',
    spec: { sourceRef, verify: { cosign: [{ name: 'a' }] } },
    field: 'spec.verify.cosign[0]',
    says: 'exactly one of publicKey, secretRef or keyless',
  },
  {
    what: 'a public key that is not PEM',
    spec: { sourceRef, verify: { cosign: [{ name: 'a', publicKey: 'ssh-ed25519 AAAA' }] } },
    field: 'spec.verify.cosign[0].publicKey',
    says: 'should match',
  },
  {
    what: 'keyless with subject and subjectRegex',
    spec: {
      sourceRef,
      verify: {
        cosign: [
          {
            name: 'a',
            keyless: { issuer: 'https://accounts.example.com', subject: 'a', subjectRegex: '^a$' },
          },
        ],
      },
    },
    field: 'spec.verify.cosign[0].keyless',
    says: 'exactly one of subject or subjectRegex',
  },
  {
    what: 'keyless with neither subject nor subjectRegex',
    spec: {
      sourceRef,
      verify: { cosign: [{ name: 'a', keyless: { issuer: 'https://accounts.example.com' } }] },
    },
    field: 'spec.verify.cosign[0].keyless',
    says: 'exactly one of subject or subjectRegex',
  },
  {
    what: 'keyless with a regex that does not compile',
    spec: {
      sourceRef,
      verify: {
        cosign: [
          {
            name: 'a',
            keyless: { issuer: 'https://accounts.example.com', subjectRegex: '^https://github\\.com/(acme$' },
          },
        ],
      },
    },
    field: 'spec.verify.cosign[0].keyless.subjectRegex',
    says: 'not a valid regular expression',
  },
  ...['a\\Z', 'a(?=b)', '(a)\\1'].map((subjectRegex) => ({
    what: `keyless with ${subjectRegex}, which JavaScript compiles and RE2 (CEL, cosign, tagguard) refuses`,
    spec: {
      sourceRef,
      verify: { cosign: [{ name: 'a', keyless: { issuer: 'https://accounts.example.com', subjectRegex } }] },
    },
    field: 'spec.verify.cosign[0].keyless.subjectRegex',
    says: 'not a valid regular expression',
  })),
  {
    what: 'a notation trust store with secretRef and pem',
    spec: {
      sourceRef,
      verify: { notation: [notation('a', { trustStore: { secretRef: { name: 'ca' }, pem: PEM_CERT } })] },
    },
    field: 'spec.verify.notation[0].trustStore',
    says: 'exactly one of secretRef or pem',
  },
  {
    what: 'a notation signer without a trust store',
    spec: { sourceRef, verify: { notation: [{ name: 'a', trustedIdentities: ['*'] }] } },
    field: 'spec.verify.notation[0].trustStore',
    says: 'Required value',
  },
  {
    what: 'trusted identity "*" next to another',
    spec: {
      sourceRef,
      verify: { notation: [notation('a', { trustedIdentities: ['*', 'x509.subject: CN=a'] })] },
    },
    field: 'spec.verify.notation[0].trustedIdentities',
    says: '"*" must be the only entry',
  },
  {
    what: 'a trusted identity not in trust-policy form',
    spec: { sourceRef, verify: { notation: [notation('a', { trustedIdentities: ['CN=release'] })] } },
    field: 'spec.verify.notation[0].trustedIdentities[0]',
    says: 'should match',
  },
  {
    what: 'an unknown notation level',
    spec: { sourceRef, verify: { notation: [notation('a', { level: 'skip' })] } },
    field: 'spec.verify.notation[0].level',
    says: 'Unsupported value',
  },
  {
    what: 'a cosign and a provenance signer with one name',
    spec: { sourceRef, verify: { cosign: [keyed('a')], provenance: [{ name: 'a', publicKey: PGP_KEY }] } },
    field: 'spec.verify',
    says: 'signer names must be unique across verify.cosign, verify.notation and verify.provenance',
  },
  {
    what: 'minSignatures above the number of signers, provenance counted',
    spec: {
      sourceRef,
      verify: { minSignatures: 3, cosign: [keyed('a')], provenance: [{ name: 'b', publicKey: PGP_KEY }] },
    },
    field: 'spec.verify',
    says: 'minSignatures cannot exceed the number of signer entries',
  },
  {
    what: 'a provenance signer with a keyring and a publicKey',
    spec: {
      sourceRef,
      verify: {
        provenance: [{ name: 'a', publicKey: PGP_KEY, keyring: { secretRef: { name: 'helm-keys' } } }],
      },
    },
    field: 'spec.verify.provenance[0]',
    says: 'exactly one of keyring or publicKey',
  },
  {
    what: 'a provenance signer with neither',
    spec: { sourceRef, verify: { provenance: [{ name: 'a' }] } },
    field: 'spec.verify.provenance[0]',
    says: 'exactly one of keyring or publicKey',
  },
  {
    what: 'a provenance publicKey that is not an armored OpenPGP key',
    spec: { sourceRef, verify: { provenance: [{ name: 'a', publicKey: '-----BEGIN PUBLIC KEY-----' }] } },
    field: 'spec.verify.provenance[0].publicKey',
    says: 'should match',
  },
  {
    what: 'an unknown failOn severity',
    spec: { sourceRef, scan: { failOn: 'severe' } },
    field: 'spec.scan.failOn',
    says: 'Unsupported value',
  },
  {
    what: 'a scan exception with a malformed resource',
    spec: {
      sourceRef,
      scan: { helm: { exceptions: [{ rule: 'host-path-volume', resource: 'node exporter' }] } },
    },
    field: 'spec.scan.helm.exceptions[0].resource',
    says: 'should match',
  },
  {
    what: 'an unknown action',
    spec: { sourceRef, action: 'Block' },
    field: 'spec.action',
    says: 'Unsupported value',
  },
  {
    what: 'an unknown resume policy',
    spec: { sourceRef, resume: 'Never' },
    field: 'spec.resume',
    says: 'Unsupported value',
  },
  {
    what: 'an unknown Argo CD suspend method',
    spec: { sourceRef, argocd: { suspendMethod: 'Delete' } },
    field: 'spec.argocd.suspendMethod',
    says: 'Unsupported value',
  },
];

const read = (name: string) =>
  kube.read<ArtifactVerification & KubernetesObject>(API_VERSION, KIND, name, namespace);

const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);

/** A JSON merge patch of the status subresource, as the controller writes it. */
const patchStatus = (name: string, status: ArtifactVerificationStatus): Promise<unknown> =>
  custom.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

beforeAll(async () => {
  expect(env.installedCrds).toContain('artifactverifications.tagguard.dev');
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

describe('the API server rejects an invalid ArtifactVerification', () => {
  it.each(invalidCases)('with $what (422 at $field)', async ({ spec, field, says }) => {
    const object = spec === undefined ? { ...manifest({}), spec: undefined } : manifest(spec);
    const { code, causes, message } = await rejection(object);
    expect(code).toBe(422);
    const cause = causes.find((c) => c.field === field);
    expect(cause, `causes: ${JSON.stringify(causes)}`).toBeDefined();
    expect(`${cause?.message ?? ''} ${message}`).toContain(says);
  });
});

describe('the API server accepts a valid ArtifactVerification', () => {
  it('fills in the defaults of a minimal one', async () => {
    await kube.objects.create(manifest({ sourceRef }, 'minimal'));
    const stored = await read('minimal');
    expect(stored.spec).toEqual({
      sourceRef,
      interval: '1m',
      action: 'Pin',
      resume: 'Automatic',
      scan: { failOn: 'high' },
    });
  });

  it('fills in the nested defaults of verify, notation and argocd', async () => {
    await kube.objects.create(
      manifest(
        {
          sourceRef: { kind: 'Application', name: 'app' },
          verify: { notation: [notation('acme')] },
          argocd: {},
        },
        'nested',
      ),
    );
    const { spec } = await read('nested');
    expect(spec.verify?.minSignatures).toBe(1);
    expect(spec.verify?.notation?.[0]?.level).toBe('strict');
    expect(spec.argocd?.suspendMethod).toBe('DisableAutoSync');
  });

  it('keeps provenance signers (a keyring Secret, an inline key) beside a cosign one', async () => {
    const verify = {
      minSignatures: 2,
      cosign: [keyed('release-key')],
      provenance: [
        { name: 'helm-release', keyring: { secretRef: { name: 'helm-keys' } } },
        { name: 'helm-inline', publicKey: PGP_KEY },
      ],
    };
    await kube.objects.create(manifest({ sourceRef, verify }, 'provenance'));
    expect((await read('provenance')).spec.verify).toEqual(verify);
  });

  it('keeps the full example of docs/design.md as written', async () => {
    const spec = {
      sourceRef: { kind: 'OCIRepository', name: 'payment', namespace: 'flux-system' },
      interval: '90s',
      verify: {
        minSignatures: 2,
        cosign: [
          { name: 'release-key', publicKey: PEM_KEY },
          {
            name: 'ci-keyless',
            keyless: {
              issuer: 'https://token.actions.githubusercontent.com',
              subjectRegex: '^https://github\\.com/acme/charts/.*$',
            },
            trustedRoot: { configMapRef: { name: 'private-sigstore' } },
            requireTransparencyLog: true,
          },
        ],
        notation: [notation('acme-release', { level: 'permissive' })],
      },
      scan: {
        failOn: 'critical',
        helm: {
          enabled: true,
          values: { replicaCount: 2, image: { tag: 'v1' } },
          exceptions: [{ rule: 'host-path-volume', resource: 'DaemonSet/node-exporter' }],
        },
        sbom: { required: true },
        wasm: { allowedImports: ['wasi_snapshot_preview1.*'] },
      },
      action: 'Pin',
      resume: 'Manual',
      argocd: { suspendMethod: 'SkipReconcile' },
    };
    await kube.objects.create(manifest(spec, 'full'));
    expect((await read('full')).spec).toEqual(spec);
  });

  it('accepts action Pin for an Application (the operator falls back to Suspend)', async () => {
    await kube.objects.create(
      manifest({ sourceRef: { kind: 'Application', name: 'app', sourceIndex: 1 }, action: 'Pin' }, 'pin-app'),
    );
    expect((await read('pin-app')).spec.action).toBe('Pin');
  });

  it('accepts a raw artifact with a semver range, credentials and no tag (watched as "latest" when none)', async () => {
    await kube.objects.create(
      manifest(
        {
          artifact: {
            ...artifact,
            semver: '>=3.1.0 <4.0.0',
            secretRef: { name: 'regcred' },
            certSecretRef: { name: 'ca' },
          },
        },
        'semver',
      ),
    );
    await kube.objects.create(
      manifest({ artifact: { url: 'oci://localhost:5000/wasm/filter', insecure: true } }, 'plain'),
    );
    expect((await read('semver')).spec.artifact?.semver).toBe('>=3.1.0 <4.0.0');
    expect((await read('plain')).spec.artifact?.tag).toBeUndefined();
  });
});

describe('the status subresource', () => {
  const status: ArtifactVerificationStatus = {
    observedGeneration: 1,
    source: 'OCIRepository/payment',
    artifact: {
      url: artifact.url,
      tag: '3.1.0',
      digest: DIGEST,
      shortDigest: DIGEST.slice(0, 19),
      resolvedAt: '2026-01-02T03:04:05Z',
    },
    trustedDigest: DIGEST,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Trusted',
        message: 'payment@sha256:ab12 trusted',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-02T03:04:05Z',
      },
      {
        type: 'Verified',
        status: 'True',
        reason: 'Verified',
        message: 'signed by release-key',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-02T03:04:05Z',
      },
      {
        type: 'Held',
        status: 'False',
        reason: 'NotHeld',
        message: '',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-02T03:04:05Z',
      },
    ],
    history: [{ digest: DIGEST, tag: '3.1.0', firstSeen: '2026-01-02T03:04:05Z', verdict: 'Trusted' }],
  };

  beforeAll(async () => {
    await kube.objects.create(manifest({ sourceRef }, 'with-status'));
  });

  it('ignores status written through the main resource, and spec written through /status', async () => {
    const created = await read('with-status');
    await kube.objects.replace({ ...created, status } as KubernetesObject);
    expect((await read('with-status')).status).toBeUndefined();

    await patchStatus('with-status', status);
    await kube.mergePatch(
      { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'with-status', namespace } },
      {
        spec: { interval: '2m' },
      },
    );
    const updated = await read('with-status');
    expect(updated.status?.trustedDigest).toBe(DIGEST);
    expect(updated.spec.interval).toBe('2m');
    expect(updated.metadata.generation).toBe(2);
  });

  it('validates status too: a malformed digest is rejected with 422', async () => {
    try {
      await patchStatus('with-status', { trustedDigest: 'sha256:nothex' });
      expect.fail('the malformed status was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ApiException);
      expect((error as ApiException<string>).code).toBe(422);
      expect(String((error as ApiException<string>).body)).toContain('status.trustedDigest');
    }
  });

  it('caps history at 20 entries and findings at 50', async () => {
    const entry = { digest: DIGEST, firstSeen: '2026-01-02T03:04:05Z', verdict: 'Untrusted' as const };
    const finding = {
      rule: 'host-port',
      severity: 'low' as const,
      resource: 'Deployment/a',
      path: 'spec',
      message: 'm',
    };
    for (const [patch, field] of [
      [{ history: Array.from({ length: 21 }, () => entry) }, 'status.history'],
      [{ findings: Array.from({ length: 51 }, () => finding) }, 'status.findings'],
    ] as const) {
      const error = await patchStatus('with-status', patch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiException);
      expect(String((error as ApiException<string>).body)).toContain(`${field}: Too many`);
    }
  });

  it('shows Source, Tag, short Digest, Verified, Held and Ready in kubectl get (and more with -o wide)', async () => {
    await patchStatus('with-status', status);
    const plain = await kubectl(env.kubeconfig, ['get', 'av', '-n', namespace, 'with-status']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    const [header = '', row = ''] = plain.stdout.trim().split('\n');
    expect(header.split(/\s+/)).toEqual([
      'NAME',
      'SOURCE',
      'TAG',
      'DIGEST',
      'VERIFIED',
      'HELD',
      'READY',
      'AGE',
    ]);
    expect(row.split(/\s+/).slice(0, 7)).toEqual([
      'with-status',
      'OCIRepository/payment',
      '3.1.0',
      DIGEST.slice(0, 19),
      'True',
      'False',
      'True',
    ]);

    const wide = await kubectl(env.kubeconfig, [
      'get',
      'artifactverification',
      '-n',
      namespace,
      'with-status',
      '-o',
      'wide',
    ]);
    expect(wide.stdout).toContain('TRUSTED DIGEST');
    expect(wide.stdout).toContain(artifact.url);
    expect(wide.stdout).toContain(DIGEST);
    expect(wide.stdout).toContain('payment@sha256:ab12 trusted');
  });

  it('is listed under the category tagguard', async () => {
    const listed = await kubectl(env.kubeconfig, ['get', 'tagguard', '-n', namespace, '-o', 'name']);
    expect(listed.stdout.split('\n')).toContain('artifactverification.tagguard.dev/with-status');
  });
});
