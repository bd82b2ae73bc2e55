// Helm provenance files made by the real `helm package --sign` and GnuPG (/usr/bin/gpg), judged by tagguard
// and by the real `helm verify` on the same bytes. Where they differ it is always tagguard refusing what
// helm v3 accepts (docs/provenance.md#what-is-refused-where-helm-is-lenient), never the other way round.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpgHome, gpgTime, type GpgHome } from '../../env/gpg.ts';
import { runTool } from '../../env/run-tool.ts';
import { MAX_PROVENANCE_BYTES } from '../../../src/verify/provenance/parse-provenance.ts';
import { readProvenanceKeyring } from '../../../src/verify/provenance/provenance-keyring.ts';
import type { ExpectedChart, ProvenanceReason } from '../../../src/verify/provenance/provenance-types.ts';
import { verifyProvenance } from '../../../src/verify/provenance/verify-provenance.ts';

const DAY = 24 * 3600 * 1000;
const GOOD = 'Good Signer <good@example.com>';
const OTHER = 'Other Signer <other@example.com>';
const REVOKED = 'Revoked Signer <revoked@example.com>';
const EXPIRED = 'Expired Signer <expired@example.com>';
const OLD = 'Old Signer <old@example.com>';
const SUBKEY = 'Subkey Signer <subkey@example.com>';
const EXPIRED_SUBKEY = 'Expired Subkey Signer <expired-subkey@example.com>';
const PAYMENT: ExpectedChart = { name: 'payment', version: '0.1.0' };

const CHART_YAML = `apiVersion: v2
name: payment
version: 0.1.0
description: A payment service
keywords:
  - payment
  - demo
maintainers:
  - name: ops
    email: ops@example.com
`;

let dir: string;
let gpg: GpgHome;
let helmEnv: Record<string, string>;
/** The signed archive, its provenance (helm package --sign with GOOD), and an unsigned rebuild. */
let archive: string;
let provenance: string;
let changedArchive: string;

const helm = (args: readonly string[]) => runTool('helm', args, { env: helmEnv });

const writeChart = async (where: string, configMap: string): Promise<string> => {
  const chart = join(where, 'payment');
  await mkdir(join(chart, 'templates'), { recursive: true });
  await writeFile(join(chart, 'Chart.yaml'), CHART_YAML);
  await writeFile(join(chart, 'values.yaml'), 'greeting: hello\n');
  await writeFile(join(chart, 'templates', 'configmap.yaml'), configMap);
  return chart;
};

/** helm package --sign with one of the gpg keys, into its own directory. */
const packageSigned = async (key: string, name: string): Promise<{ archive: string; provenance: string }> => {
  const out = join(dir, name);
  await writeFile(join(dir, 'secring.gpg'), await gpg.exportSecret());
  const chart = await writeChart(
    join(dir, `${name}-src`),
    'kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n',
  );
  await helm([
    'package',
    chart,
    '--destination',
    out,
    '--sign',
    '--key',
    key,
    '--keyring',
    join(dir, 'secring.gpg'),
  ]);
  return { archive: join(out, 'payment-0.1.0.tgz'), provenance: join(out, 'payment-0.1.0.tgz.prov') };
};

/** The text helm signed, read back from its provenance file (dash-escaping undone), with its final line break. */
const signedText = (prov: string): string => {
  const lines = prov.split('\n');
  const start = lines.indexOf('') + 1;
  const end = lines.indexOf('-----BEGIN PGP SIGNATURE-----');
  return `${lines
    .slice(start, end)
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n')}\n`;
};

/** gpg --clearsign of a text, the way helm writes provenance (SHA512), with gpg's extra options. */
const gpgClearSign = async (text: string, options: readonly string[]): Promise<string> =>
  (await gpg.run(['--digest-algo', 'SHA512', '--clearsign', ...options], text)).toString();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tg-prov-'));
  helmEnv = { HOME: dir, HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config') };
  gpg = await createGpgHome();
  const past = new Date(Date.now() - 10 * DAY);
  await gpg.generateKey(GOOD);
  await gpg.generateKey(OTHER);
  const revoked = await gpg.generateKey(REVOKED);
  await gpg.generateKey(EXPIRED, { createdAt: past, expire: '1d' });
  await gpg.generateKey(OLD, { createdAt: past });
  await gpg.addSigningSubkey(await gpg.generateKey(SUBKEY));
  await gpg.addSigningSubkey(await gpg.generateKey(EXPIRED_SUBKEY, { createdAt: past }), {
    createdAt: past,
    expire: '1d',
  });

  ({ archive, provenance } = await packageSigned('Good Signer', 'good'));
  const signedByRevoked = await packageSigned('Revoked Signer', 'revoked');
  await copyFile(signedByRevoked.provenance, join(dir, 'revoked.prov'));
  await gpg.revoke(revoked);

  const changed = await writeChart(
    join(dir, 'changed-src'),
    'kind: ConfigMap\napiVersion: v1\nmetadata: {name: b}\n',
  );
  await helm(['package', changed, '--destination', join(dir, 'changed')]);
  changedArchive = join(dir, 'changed', 'payment-0.1.0.tgz');
}, 180_000);

afterAll(async () => {
  await gpg?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Case {
  /** The provenance bytes and the archive path to judge, and which keys are trusted. */
  readonly make: () => Promise<{ prov: string | Buffer; archive?: string; archiveName?: string }>;
  readonly keys: readonly string[];
  readonly expected?: ExpectedChart;
  /** tagguard's verdict: 'verified' or the reason. */
  readonly tagguard: 'verified' | ProvenanceReason;
  /** Whether `helm verify` (v3) accepts the same files. */
  readonly helm: boolean;
}

const read = (path: string) => readFile(path, 'utf8');
const sha256File = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

const CASES: Record<string, Case> = {
  'a chart signed by helm package --sign': {
    make: async () => ({ prov: await read(provenance) }),
    keys: [GOOD],
    tagguard: 'verified',
    helm: true,
  },
  'the same text clear-signed by gpg': {
    make: async () => ({ prov: await gpgClearSign(signedText(await read(provenance)), ['-u', GOOD]) }),
    keys: [GOOD],
    tagguard: 'verified',
    helm: true,
  },
  'a signature by a signing subkey': {
    make: async () => ({ prov: await gpgClearSign(signedText(await read(provenance)), ['-u', SUBKEY]) }),
    keys: [SUBKEY],
    tagguard: 'verified',
    helm: true,
  },
  'a signing subkey that expired after it signed': {
    make: async () => ({
      prov: await gpgClearSign(signedText(await read(provenance)), [
        '-u',
        EXPIRED_SUBKEY,
        '--faked-system-time',
        gpgTime(new Date(Date.now() - 10 * DAY + 3600_000)),
      ]),
    }),
    keys: [EXPIRED_SUBKEY],
    tagguard: 'ProvenanceKeyExpired',
    helm: true,
  },
  'another archive under the same name and version': {
    make: async () => ({ prov: await read(provenance), archive: changedArchive }),
    keys: [GOOD],
    tagguard: 'ProvenanceDigestMismatch',
    helm: false,
  },
  'the archive renamed to another chart': {
    make: async () => ({ prov: await read(provenance), archiveName: 'billing-0.1.0.tgz' }),
    keys: [GOOD],
    expected: { name: 'billing', version: '0.1.0' },
    tagguard: 'ProvenanceChartMismatch',
    helm: false,
  },
  'a keyring without the signer': {
    make: async () => ({ prov: await read(provenance) }),
    keys: [OTHER],
    tagguard: 'ProvenanceUnknownSigner',
    helm: false,
  },
  'a key revoked after it signed': {
    make: async () => ({ prov: await read(join(dir, 'revoked.prov')) }),
    keys: [REVOKED],
    tagguard: 'ProvenanceKeyRevoked',
    helm: false,
  },
  'a key that expired after it signed': {
    make: async () => ({
      prov: await gpgClearSign(signedText(await read(provenance)), [
        '-u',
        EXPIRED,
        '--faked-system-time',
        gpgTime(new Date(Date.now() - 10 * DAY + 3600_000)),
      ]),
    }),
    keys: [EXPIRED],
    tagguard: 'ProvenanceKeyExpired',
    helm: true, // helm v3's x/crypto openpgp checks no expiry
  },
  'a signature that expired': {
    make: async () => ({
      prov: await gpgClearSign(signedText(await read(provenance)), [
        '-u',
        OLD,
        '--default-sig-expire',
        '1d',
        '--faked-system-time',
        gpgTime(new Date(Date.now() - 9 * DAY)),
      ]),
    }),
    keys: [OLD],
    tagguard: 'ProvenanceSignatureExpired',
    helm: true,
  },
  'a tampered signed text': {
    make: async () => ({ prov: (await read(provenance)).replace('A payment service', 'A billing service') }),
    keys: [GOOD],
    tagguard: 'ProvenanceSignatureInvalid',
    helm: false,
  },
  'a signed hash replaced by the hash of another archive': {
    make: async () => ({
      prov: (await read(provenance)).replace(
        /sha256:[0-9a-f]{64}/,
        `sha256:${await sha256File(changedArchive)}`,
      ),
      archive: changedArchive,
    }),
    keys: [GOOD],
    tagguard: 'ProvenanceSignatureInvalid',
    helm: false,
  },
  'two signatures, one by a trusted key': {
    make: async () => ({
      prov: await gpgClearSign(signedText(await read(provenance)), ['-u', OTHER, '-u', GOOD]),
    }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: true,
  },
  'text before the signed message': {
    make: async () => ({ prov: `unsigned: text\n${await read(provenance)}` }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: true,
  },
  'text after the signature': {
    make: async () => ({ prov: `${await read(provenance)}unsigned: text\n` }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: true,
  },
  'CRLF line ends': {
    make: async () => ({ prov: (await read(provenance)).replaceAll('\n', '\r\n') }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: true,
  },
  'trailing blanks on a signed line': {
    make: async () => ({ prov: (await read(provenance)).replace('name: payment\n', 'name: payment  \n') }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: true,
  },
  'a byte order mark before the message': {
    make: async () => ({ prov: `\ufeff${await read(provenance)}` }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: false,
  },
  'a Hash header naming another hash than the signature': {
    make: async () => ({ prov: (await read(provenance)).replace('Hash: SHA512', 'Hash: SHA256') }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: true,
  },
  garbage: {
    make: () => Promise.resolve({ prov: Buffer.from('\x89PNG not a provenance file') }),
    keys: [GOOD],
    tagguard: 'ProvenanceMalformed',
    helm: false,
  },
  'a good file padded past the size cap': {
    make: async () => ({ prov: `${await read(provenance)}${'#'.repeat(MAX_PROVENANCE_BYTES)}\n` }),
    keys: [GOOD],
    tagguard: 'ProvenanceTooLarge',
    helm: true,
  },
};

/** Lays out the case as helm verify wants it: <name>.tgz beside <name>.tgz.prov, a binary keyring. */
const layOut = async (name: string, c: Case) => {
  const made = await c.make();
  const where = join(dir, 'cases', name.replace(/[^a-z0-9]+/gi, '-'));
  await mkdir(where, { recursive: true });
  const tgz = join(where, made.archiveName ?? 'payment-0.1.0.tgz');
  await copyFile(made.archive ?? archive, tgz);
  await writeFile(`${tgz}.prov`, made.prov);
  const keyring = join(where, 'pubring.gpg');
  await writeFile(keyring, await gpg.exportPublic(...c.keys));
  return { tgz, keyring, prov: typeof made.prov === 'string' ? Buffer.from(made.prov) : made.prov };
};

const helmAccepts = async (tgz: string, keyring: string): Promise<boolean> =>
  helm(['verify', tgz, '--keyring', keyring]).then(
    () => true,
    () => false,
  );

describe('Helm provenance: tagguard and helm verify on the same files', () => {
  it.each(Object.entries(CASES))('%s', async (name, c) => {
    const { tgz, keyring, prov } = await layOut(name, c);
    const result = await verifyProvenance({
      name: 'release',
      provenance: prov,
      archive: await readFile(tgz),
      expected: c.expected ?? PAYMENT,
      keyring: await readProvenanceKeyring([await readFile(keyring)]),
      now: new Date(),
    });
    expect(result.verified ? 'verified' : result.reason).toBe(c.tagguard);
    expect(await helmAccepts(tgz, keyring)).toBe(c.helm);
    // Never more lenient than helm.
    if (result.verified) expect(c.helm).toBe(true);
  });

  it('accepts an armored keyring as well as gpg export', async () => {
    const armored = await gpg.run(['--armor', '--export', OTHER, GOOD]);
    const result = await verifyProvenance({
      name: 'release',
      provenance: await readFile(provenance),
      archive: await readFile(archive),
      expected: PAYMENT,
      keyring: await readProvenanceKeyring([armored.toString()]),
      now: new Date(),
    });
    expect(result.verified).toBe(true);
  });

  it('reports its verification time beside helm verify on the same files', async () => {
    const keyringFile = join(dir, 'timing-pubring.gpg');
    await writeFile(keyringFile, await gpg.exportPublic(GOOD));
    const keyring = await readProvenanceKeyring([await readFile(keyringFile)]);
    const [provBytes, archiveBytes] = [await readFile(provenance), await readFile(archive)];
    const runs = 10;
    let start = performance.now();
    for (let i = 0; i < runs; i++) {
      const r = await verifyProvenance({
        name: 'release',
        provenance: provBytes,
        archive: archiveBytes,
        expected: PAYMENT,
        keyring,
        now: new Date(),
      });
      expect(r.verified).toBe(true);
    }
    const tagguardMs = (performance.now() - start) / runs;
    start = performance.now();
    for (let i = 0; i < runs; i++) expect(await helmAccepts(archive, keyringFile)).toBe(true);
    const helmMs = (performance.now() - start) / runs;
    console.log(
      `provenance verification per chart: tagguard ${tagguardMs.toFixed(1)} ms, helm verify ${helmMs.toFixed(1)} ms (process included), ratio ${(tagguardMs / helmMs).toFixed(2)}`,
    );
  });
});

/** mulberry32: a small seeded generator, so that a failing mutation can be replayed with FUZZ_SEED. */
const generator = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const INSERTS = [' ', '\t', '\r', '\n', '-', '.', 'a', '=', '\n...\n', '- '];

const mutate = (text: string, random: () => number): string => {
  const at = Math.floor(random() * text.length);
  const lines = text.split('\n');
  const line = Math.floor(random() * lines.length);
  switch (Math.floor(random() * 5)) {
    case 0: {
      const code = text.charCodeAt(at) ^ (1 + Math.floor(random() * 127));
      return text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
    }
    case 1:
      return text.slice(0, at) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + (INSERTS[Math.floor(random() * INSERTS.length)] ?? ' ') + text.slice(at);
    case 3:
      return [...lines.slice(0, line + 1), ...lines.slice(line)].join('\n');
    default:
      return [...lines.slice(0, line), ...lines.slice(line + 1)].join('\n');
  }
};

describe('Helm provenance: mutations of a signed file', () => {
  it('are never accepted by tagguard when helm verify refuses them', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 16);
    const random = generator(seed);
    const good = await read(provenance);
    const where = join(dir, 'mutations');
    await mkdir(where, { recursive: true });
    const tgz = join(where, 'payment-0.1.0.tgz');
    await copyFile(archive, tgz);
    const keyringFile = join(where, 'pubring.gpg');
    await writeFile(keyringFile, await gpg.exportPublic(GOOD));
    const keyring = await readProvenanceKeyring([await readFile(keyringFile)]);
    const archiveBytes = await readFile(tgz);
    const counts = { bothRefuse: 0, bothAccept: 0, onlyHelmAccepts: 0 };
    for (let i = 0; i < 60; i++) {
      const mutated = mutate(good, random);
      await writeFile(`${tgz}.prov`, mutated);
      const result = await verifyProvenance({
        name: 'release',
        provenance: Buffer.from(mutated),
        archive: archiveBytes,
        expected: PAYMENT,
        keyring,
        now: new Date(),
      });
      const helmOk = await helmAccepts(tgz, keyringFile);
      if (result.verified && !helmOk)
        throw new Error(`seed ${seed}, mutation ${i}: tagguard accepts what helm refuses:\n${mutated}`);
      if (result.verified) counts.bothAccept++;
      else if (helmOk) counts.onlyHelmAccepts++;
      else counts.bothRefuse++;
    }
    console.log(`provenance mutations (seed ${seed}): ${JSON.stringify(counts)}`);
    expect(counts.bothRefuse).toBeGreaterThan(0);
  });
});
