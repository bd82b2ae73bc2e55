// subjectRegex beside the real cosign's --certificate-identity-regexp (Go regexp): certificates from a
// private CA whose SANs hold what JavaScript and RE2 read differently (a carriage return, a final newline),
// signed by cosign v2 (legacy `.sig`) and v3 (bundle), and patterns in RE2-only syntax. tagguard's
// `subjectRegex: p` must give cosign's verdict for `^(?:p)$`: tagguard anchors at both ends where cosign
// does not, so what tagguard trusts is a subset of what cosign trusts with `p` as written.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createCA,
  issueCertificate,
  rawSubjectAltName,
  type GeneralName,
  type KeyPair,
} from '../../env/pki.ts';
import { pushArtifact } from '../../env/oci.ts';
import { runTagguardCli, writePolicyFile } from '../../env/cli.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import {
  fulcioIssuerExtensions,
  importCosignKey,
  privateTrustedRoot,
  signCosignWithCertificate,
  verifyWithCosign,
  type CosignCertificate,
} from '../../env/sign.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import { verifyArtifact } from '../../../src/controller/signature-check.ts';
import { trustPolicyFromSpec } from '../../../src/verify/trust-policy.ts';
import { TrustPolicyError } from '../../../src/verify/errors.ts';

const env = inject('testEnv');
const ISSUER = 'https://token.tagguard.test';
const WORKFLOW = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3';

const SANS = {
  email: [['email', 'alice@tagguard.test']],
  carriageReturn: [['email', 'alice\r@tagguard.test']],
  finalNewline: [['email', 'alice@tagguard.test\n']],
  workflow: [['uri', WORKFLOW]],
} satisfies Record<string, GeneralName[]>;
type Signer = keyof typeof SANS;

interface Row {
  readonly signer: Signer;
  readonly pattern: string;
  /** tagguard's verdict, and cosign's for `^(?:pattern)$`. */
  readonly trusted: boolean;
  /** cosign's verdict for the pattern as written, where it differs (it does not anchor). */
  readonly cosignUnanchored?: boolean;
  readonly why: string;
}

const rows: readonly Row[] = [
  {
    signer: 'carriageReturn',
    pattern: '.*@tagguard\\.test',
    trusted: true,
    why: 'RE2 . matches \\r; JS . does not',
  },
  {
    signer: 'carriageReturn',
    pattern: '\\w+@tagguard\\.test',
    trusted: false,
    why: '\\w is ASCII word characters',
  },
  {
    signer: 'email',
    pattern: '(?i)ALICE@TAGGUARD\\.TEST',
    trusted: true,
    why: '(?i) flag: JS refuses the syntax',
  },
  {
    signer: 'email',
    pattern: '[[:alpha:]]+@tagguard\\.test',
    trusted: true,
    why: 'POSIX class: JS reads [[:alph]',
  },
  {
    signer: 'email',
    pattern: '\\Qalice@tagguard.test\\E',
    trusted: true,
    why: '\\Q...\\E: JS reads Q and E',
  },
  { signer: 'email', pattern: 'alice@tagguard\\.test\\z', trusted: true, why: '\\z end of text: JS reads z' },
  {
    signer: 'email',
    pattern: 'alice@tagguard\\.tes',
    trusted: false,
    cosignUnanchored: true,
    why: 'anchored',
  },
  {
    signer: 'finalNewline',
    pattern: 'alice@tagguard\\.test$',
    trusted: false,
    cosignUnanchored: false,
    why: '$ is \\z',
  },
  {
    signer: 'finalNewline',
    pattern: 'alice@tagguard\\.test\\n',
    trusted: true,
    why: 'the newline spelled out',
  },
  {
    signer: 'finalNewline',
    pattern: '(?s)alice@tagguard\\.test.',
    trusted: true,
    why: '(?s): . matches \\n',
  },
  { signer: 'finalNewline', pattern: '.*', trusted: false, cosignUnanchored: true, why: '. stops at \\n' },
  {
    signer: 'workflow',
    pattern: 'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v\\d+\\.\\d+\\.\\d+',
    trusted: true,
    why: 'a release workflow identity',
  },
  {
    signer: 'workflow',
    pattern: 'github\\.com/acme/',
    trusted: false,
    cosignUnanchored: true,
    why: 'an unanchored cosign pattern matches inside the SAN',
  },
];

let home: ToolHome;
let client: RegistryClient;
let ca: KeyPair;
let trustedRootFile: string;
const signers = {} as Record<Signer, CosignCertificate>;
const signed = { legacy: {}, bundle: {} } as Record<'legacy' | 'bundle', Record<Signer, string>>;

const registry = () => env.registries.referrers;

beforeAll(async () => {
  home = await createToolHome(env);
  client = new RegistryClient(new RegistryTransport({ hostOptions: () => ({ plainHttp: true }) }));
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-subject-regex-'));
  ca = await createCA(dir, 'signing-ca');
  trustedRootFile = join(dir, 'trusted_root.json');
  await writeFile(trustedRootFile, JSON.stringify(privateTrustedRoot(ca.certPem)));
  for (const [name, sans] of Object.entries(SANS) as [Signer, GeneralName[]][]) {
    const leaf = await issueCertificate(ca, dir, name, {
      subject: `/CN=${name}`,
      usage: 'code-signing',
      extraExtensions: [rawSubjectAltName(sans), ...fulcioIssuerExtensions(ISSUER)],
    });
    signers[name] = {
      key: await importCosignKey(home, `${name}-cosign`, leaf.keyFile),
      certFile: leaf.certFile,
      chainFile: ca.certFile,
    };
  }
  // One signing at a time: cosign runs share the tool home's TUF cache.
  for (const format of ['legacy', 'bundle'] as const)
    for (const name of Object.keys(SANS) as Signer[]) {
      const artifact = await pushArtifact(
        home,
        registry(),
        `subject-regex/${format}-${name.toLowerCase()}`,
        'v1',
        `${format} ${name}`,
      );
      await signCosignWithCertificate(format, home, registry(), artifact, signers[name]);
      signed[format][name] = `${artifact.repository}@${artifact.digest}`;
    }
}, 300_000);

afterAll(async () => {
  await client.close();
});

const tagguardTrusts = async (reference: string, subjectRegex: string): Promise<boolean> => {
  const policy = await trustPolicyFromSpec(
    {
      cosign: [
        {
          name: 'ci',
          keyless: { issuer: ISSUER, subjectRegex },
          trustedRoot: { configMapRef: { name: 'root' } },
          requireTransparencyLog: false,
        },
      ],
    },
    { configMaps: { root: { 'trusted_root.json': await readFile(trustedRootFile, 'utf8') } } },
  );
  const ref = parseReference(reference);
  const result = await verifyArtifact(client, { ...ref, digest: ref.digest ?? '' }, policy, {
    now: () => new Date(),
  });
  return result.verdict === 'Trusted';
};

const cosignTrusts = async (format: 'legacy' | 'bundle', reference: string, identityRegexp: string) =>
  verifyWithCosign(format === 'legacy' ? 'cosign2' : 'cosign', home, registry(), reference, [
    ...(format === 'legacy'
      ? ['--certificate-chain', ca.certFile]
      : ['--trusted-root', trustedRootFile, '--allow-certificate-chain']),
    '--certificate-identity-regexp',
    identityRegexp,
    '--certificate-oidc-issuer',
    ISSUER,
    '--insecure-ignore-tlog=true',
    '--insecure-ignore-sct=true',
  ]);

describe.each(['legacy', 'bundle'] as const)('subjectRegex beside cosign (%s signatures)', (format) => {
  it.each(rows.map((r) => [`${r.signer}: ${r.pattern} (${r.why})`, r] as const))('%s', async (_name, row) => {
    const reference = signed[format][row.signer];
    expect(await tagguardTrusts(reference, row.pattern)).toBe(row.trusted);
    const anchored = await cosignTrusts(format, reference, `^(?:${row.pattern})$`);
    expect(anchored.verified, anchored.output).toBe(row.trusted);
    if (row.cosignUnanchored !== undefined) {
      const unanchored = await cosignTrusts(format, reference, row.pattern);
      expect(unanchored.verified, unanchored.output).toBe(row.cosignUnanchored);
    }
  });

  it('refuses at parse time what cosign refuses to compile (\\Z, lookahead, backreference)', async () => {
    for (const pattern of ['alice@tagguard\\.test\\Z', '(?=a)alice@tagguard\\.test', '(a)\\1']) {
      await expect(
        trustPolicyFromSpec(
          { cosign: [{ name: 'ci', keyless: { issuer: ISSUER, subjectRegex: pattern } }] },
          {},
        ),
      ).rejects.toThrow(TrustPolicyError);
      const cosign = await cosignTrusts(format, signed[format].email, pattern);
      expect(cosign.verified).toBe(false);
      expect(cosign.output).toMatch(/error parsing regexp/);
    }
  });
});

describe('tagguard verify --policy', () => {
  const cli = async (subjectRegex: string, reference: string) => {
    const policy = await writePolicyFile(await mkdtemp(join(tmpdir(), 'tagguard-subject-regex-cli-')), {
      cosign: [
        {
          name: 'ci',
          keyless: { issuer: ISSUER, subjectRegex },
          trustedRoot: { configMapRef: { name: 'root' } },
          requireTransparencyLog: false,
        },
      ],
    });
    return runTagguardCli(
      [
        'verify',
        `oci://${reference}`,
        '--policy',
        policy,
        '--trusted-root',
        `root=${trustedRootFile}`,
        '--insecure',
      ],
      { PATH: process.env.PATH ?? '', HOME: home.dir, DOCKER_CONFIG: home.env.DOCKER_CONFIG ?? '' },
    );
  };

  it('exits 0 for an RE2 pattern that matches a SAN holding \\r, as cosign does', async () => {
    const result = await cli('.*@tagguard\\.test', signed.legacy.carriageReturn);
    expect(result.code, result.stderr).toBe(0);
  });

  it('exits 2 naming the field for a pattern RE2 refuses, before any registry request', async () => {
    const result = await cli('alice@tagguard\\.test(?=x)', signed.legacy.email);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('InvalidField');
    expect(result.stderr).toContain('spec.verify.cosign[0].keyless.subjectRegex');
  });
});

describe('a SAN Go refuses', () => {
  it('cosign cannot even load a certificate whose e-mail SAN has a byte >= 0x80', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-subject-regex-high-'));
    const leaf = await issueCertificate(ca, dir, 'high-bit', {
      subject: '/CN=high-bit',
      usage: 'code-signing',
      extraExtensions: [
        rawSubjectAltName([
          ['email', Buffer.from([...Buffer.from('alic'), 0xe5, ...Buffer.from('@tagguard.test')])],
        ]),
        ...fulcioIssuerExtensions(ISSUER),
      ],
    });
    const cert: CosignCertificate = {
      key: await importCosignKey(home, 'high-bit-cosign', leaf.keyFile),
      certFile: leaf.certFile,
      chainFile: ca.certFile,
    };
    const artifact = await pushArtifact(home, registry(), 'subject-regex/high-bit', 'v1', 'high bit');
    await expect(signCosignWithCertificate('bundle', home, registry(), artifact, cert)).rejects.toThrow(
      /rfc822Name is malformed/,
    );
  });
});
