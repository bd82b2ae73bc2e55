// Hostile signatures beside an artifact in a real registry (olareg, pushed with the real oras), judged
// by `tagguard verify`: malformed annotations, payloads, certificates, bundles and envelopes. Every one
// must be an untrusted verdict with its reason, never a crash and never "Trusted".
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../../env/run-tool.ts';
import type { CorpusCase, CorpusContext } from './corpus-case.ts';

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const ANNOTATION = 'dev.cosignproject.cosign/signature';

interface Pushed {
  readonly repository: string;
  readonly digest: string;
}

const oras = async (ctx: CorpusContext, args: string[]): Promise<string> =>
  (await runTool('oras', [...args, '--plain-http'], { cwd: ctx.dir, env: { HOME: ctx.dir } })).stdout;

/** A small artifact to sign: its digest is what the hostile signatures are about. */
const pushSubject = async (ctx: CorpusContext, name: string): Promise<Pushed> => {
  await writeFile(join(ctx.dir, 'content.txt'), `subject of ${name} ${ctx.dir}`);
  const repository = `${ctx.registry}/corpus/${name}`;
  const out = await oras(ctx, [
    'push',
    `${repository}:1.0.0`,
    'content.txt:application/vnd.tagguard.test.layer.v1',
    '--artifact-type',
    'application/vnd.tagguard.test.v1',
    '--format',
    'json',
  ]);
  return { repository, digest: (JSON.parse(out) as { digest: string }).digest };
};

const payloadFor = (subject: Pushed, digest = subject.digest): string =>
  JSON.stringify({
    critical: {
      identity: { 'docker-reference': subject.repository },
      image: { 'docker-manifest-digest': digest },
      type: 'cosign container image signature',
    },
    optional: null,
  });

/** Pushes a cosign legacy `.sig` manifest for the subject with these layers (payload + annotations). */
const pushLegacySignature = async (
  ctx: CorpusContext,
  subject: Pushed,
  layers: readonly { payload: string | Buffer; annotations: Record<string, string> }[],
): Promise<void> => {
  const files: string[] = [];
  const annotations: Record<string, Record<string, string>> = {};
  for (const [i, layer] of layers.entries()) {
    const file = `payload-${i}.json`;
    await writeFile(join(ctx.dir, file), layer.payload);
    files.push(`${file}:${SIMPLE_SIGNING}`);
    annotations[file] = layer.annotations;
  }
  await writeFile(join(ctx.dir, 'annotations.json'), JSON.stringify(annotations));
  await oras(ctx, [
    'push',
    `${subject.repository}:${subject.digest.replace(':', '-')}.sig`,
    ...files,
    '--annotation-file',
    'annotations.json',
  ]);
};

/** Attaches one referrer of `artifactType` whose single layer is `bytes` of `mediaType`. */
const attachReferrer = async (
  ctx: CorpusContext,
  subject: Pushed,
  artifactType: string,
  mediaType: string,
  bytes: string | Buffer,
): Promise<void> => {
  await writeFile(join(ctx.dir, 'referrer.bin'), bytes);
  await oras(ctx, [
    'attach',
    `${subject.repository}@${subject.digest}`,
    `referrer.bin:${mediaType}`,
    '--artifact-type',
    artifactType,
  ]);
};

const keyPair = (): { privateKey: KeyObject; publicPem: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};

const signPayload = (privateKey: KeyObject, payload: string | Buffer): string =>
  sign('sha256', Buffer.from(payload), privateKey).toString('base64');

const policyFile = async (ctx: CorpusContext, verify: string): Promise<string> => {
  const file = join(ctx.dir, 'policy.yaml');
  await writeFile(
    file,
    `apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\nspec:\n  artifact: {url: oci://example.invalid/c, tag: '1'}\n  verify:\n${verify}`,
  );
  return file;
};

const keyPolicy = (publicPem: string): string =>
  `    cosign:\n      - name: release\n        publicKey: |\n${publicPem
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n')}\n`;

const KEYLESS_POLICY =
  '    cosign:\n      - name: ci\n        keyless: {issuer: https://issuer.example, subjectRegex: "^(a+)+$"}\n';

const verifyArgs = (subject: Pushed, policy: string): string[] => [
  'verify',
  `${subject.repository}@${subject.digest}`,
  '--policy',
  policy,
  '--insecure',
  '--output',
  'json',
];

/** A self-signed certificate whose key node:crypto cannot use for cosign (made by the real openssl). */
const certificateWithKey = (dir: string, algorithm: string, options: string[] = []): string => {
  const key = join(dir, `${algorithm}.key`);
  const cert = join(dir, `${algorithm}.crt`);
  const pkeyopts = options.flatMap((o) => ['-pkeyopt', o]);
  execFileSync('openssl', ['genpkey', '-algorithm', algorithm, ...pkeyopts, '-out', key]);
  execFileSync('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-subj',
    '/CN=attacker',
    '-days',
    '1',
    '-out',
    cert,
  ]);
  return execFileSync('cat', [cert]).toString();
};

const legacy = (
  name: string,
  layers: (
    subject: Pushed,
    key: ReturnType<typeof keyPair>,
    ctx: CorpusContext,
  ) => {
    payload: string | Buffer;
    annotations: Record<string, string>;
  }[],
  code: string,
  policy: 'key' | 'keyless' = 'key',
): CorpusCase => ({
  class: 'signature',
  name,
  prepare: async (ctx) => {
    const subject = await pushSubject(
      ctx,
      name.replace(/\W+/g, '-').toLowerCase().slice(0, 40).replace(/-+$/, ''),
    );
    const key = keyPair();
    await pushLegacySignature(ctx, subject, layers(subject, key, ctx));
    return verifyArgs(
      subject,
      await policyFile(ctx, policy === 'key' ? keyPolicy(key.publicPem) : KEYLESS_POLICY),
    );
  },
  exit: 1,
  code,
});

const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

export const signatureCases: readonly CorpusCase[] = [
  legacy(
    'a signature annotation that is not base64',
    (s) => [{ payload: payloadFor(s), annotations: { [ANNOTATION]: '!!! not base64 !!!' } }],
    'UntrustedSigner',
  ),
  legacy(
    'a signature over other bytes',
    (s, k) => [
      { payload: payloadFor(s), annotations: { [ANNOTATION]: signPayload(k.privateKey, 'other bytes') } },
    ],
    'UntrustedSigner',
  ),
  legacy(
    'a validly signed payload nested 100,000 deep',
    (_s, k) => {
      const payload = nested(100_000);
      return [{ payload, annotations: { [ANNOTATION]: signPayload(k.privateKey, payload) } }];
    },
    'SignatureInvalid',
  ),
  legacy(
    'a validly signed payload naming another digest',
    (s, k) => {
      const payload = payloadFor(s, `sha256:${createHash('sha256').update('other').digest('hex')}`);
      return [{ payload, annotations: { [ANNOTATION]: signPayload(k.privateKey, payload) } }];
    },
    'DigestMismatch',
  ),
  legacy(
    'a validly signed payload whose digest key is repeated in another letter case (Go matches keys case-insensitively)',
    (s, k) => {
      const other = `sha256:${createHash('sha256').update('other').digest('hex')}`;
      const payload = payloadFor(s).replace(
        '"docker-manifest-digest":',
        `"Docker-Manifest-Digest":"${other}","docker-manifest-digest":`,
      );
      return [{ payload, annotations: { [ANNOTATION]: signPayload(k.privateKey, payload) } }];
    },
    'SignatureInvalid',
  ),
  legacy(
    'a payload that is not JSON',
    (_s, k) => [
      { payload: 'not json', annotations: { [ANNOTATION]: signPayload(k.privateKey, 'not json') } },
    ],
    'SignatureInvalid',
  ),
  legacy(
    '2,000 signature layers',
    (s) =>
      Array.from({ length: 2000 }, (_, i) => ({
        payload: `${payloadFor(s)}${' '.repeat(i % 7)}`,
        annotations: { [ANNOTATION]: Buffer.from(`junk-${i}`).toString('base64') },
      })).slice(0, 2000),
    'UntrustedSigner',
  ),
  legacy(
    'a certificate annotation that is not PEM',
    (s) => [
      {
        payload: payloadFor(s),
        annotations: { [ANNOTATION]: 'AAAA', 'dev.sigstore.cosign/certificate': 'not a certificate' },
      },
    ],
    'SignatureInvalid',
    'keyless',
  ),
  legacy(
    'a certificate with an Ed448 key',
    (s, _k, ctx) => [
      {
        payload: payloadFor(s),
        annotations: {
          [ANNOTATION]: 'AAAA',
          'dev.sigstore.cosign/certificate': certificateWithKey(ctx.dir, 'ed448'),
        },
      },
    ],
    'SignatureInvalid',
    'keyless',
  ),
  legacy(
    'a certificate with an SM2 key',
    (s, _k, ctx) => [
      {
        payload: payloadFor(s),
        annotations: {
          [ANNOTATION]: 'AAAA',
          'dev.sigstore.cosign/certificate': certificateWithKey(ctx.dir, 'SM2'),
        },
      },
    ],
    'SignatureInvalid',
    'keyless',
  ),
  legacy(
    'a certificate with explicit EC curve parameters',
    (s, _k, ctx) => [
      {
        payload: payloadFor(s),
        annotations: {
          [ANNOTATION]: 'AAAA',
          'dev.sigstore.cosign/certificate': certificateWithKey(ctx.dir, 'EC', [
            'ec_paramgen_curve:P-256',
            'ec_param_enc:explicit',
          ]),
        },
      },
    ],
    'SignatureInvalid',
    'keyless',
  ),
  {
    class: 'signature',
    name: 'a Sigstore bundle referrer that is not JSON',
    prepare: async (ctx) => {
      const subject = await pushSubject(ctx, 'garbage-bundle');
      const type = 'application/vnd.dev.sigstore.bundle.v0.3+json';
      await attachReferrer(
        ctx,
        subject,
        type,
        type,
        '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", ',
      );
      return verifyArgs(subject, await policyFile(ctx, KEYLESS_POLICY));
    },
    exit: 1,
    code: 'SignatureInvalid',
  },
  {
    class: 'signature',
    name: 'a Notation JWS envelope that is not JSON',
    prepare: async (ctx) => {
      const subject = await pushSubject(ctx, 'garbage-jws');
      await attachReferrer(
        ctx,
        subject,
        'application/vnd.cncf.notary.signature',
        'application/jose+json',
        '{"payload":',
      );
      return verifyArgs(subject, await policyFile(ctx, notationPolicy(ctx)));
    },
    exit: 1,
    code: 'SignatureInvalid',
  },
  {
    class: 'signature',
    name: 'a Notation COSE envelope of random bytes',
    prepare: async (ctx) => {
      const subject = await pushSubject(ctx, 'garbage-cose');
      await attachReferrer(
        ctx,
        subject,
        'application/vnd.cncf.notary.signature',
        'application/cose',
        Buffer.from([0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x5a, 0xff, 0xff, 0xff, 0xff]),
      );
      return verifyArgs(subject, await policyFile(ctx, notationPolicy(ctx)));
    },
    exit: 1,
    code: 'SignatureInvalid',
  },
];

/** A Notation signer trusting a throwaway CA made with openssl (nothing it signed is in the registry). */
const notationPolicy = (ctx: CorpusContext): string => {
  const pem = certificateWithKey(ctx.dir, 'RSA');
  return `    notation:\n      - name: acme\n        trustStore:\n          pem: |\n${pem
    .trim()
    .split('\n')
    .map((l) => `            ${l}`)
    .join('\n')}\n        trustedIdentities: ['*']\n`;
};
