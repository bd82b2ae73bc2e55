// `tagguard verify|scan --repo URL <chart>`: which flags go together (helm pull --repo's, plus
// --password-stdin), what a password from stdin is, and that a password is never echoed. No network: the
// commands are run in-process up to the point where they would fetch.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  createHelmRepositoryClient,
  parseHelmRepositoryArgs,
  passwordFromStdin,
  type HelmRepositoryOptionValues,
} from '../../src/cli/helm-repository-options.ts';
import { helmChartErrorExit, withoutQuery } from '../../src/cli/helm-chart-target.ts';
import { verifyCommand } from '../../src/cli/verify-command.ts';
import { scanCommand } from '../../src/cli/scan-command.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import type { CommandIo } from '../../src/cli/command-io.ts';
import { HelmRepositoryError } from '../../src/registry/helm-repository/errors.ts';

const REPO = 'https://charts.example.com/stable?token=SECRET-TOKEN';

const thrown = (work: () => unknown): unknown => {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

const parse = (values: HelmRepositoryOptionValues, positionals: readonly string[] = ['payment']) =>
  parseHelmRepositoryArgs(values, positionals);

const refusal = (values: HelmRepositoryOptionValues, positionals?: readonly string[]): string => {
  const error = thrown(() => parse(values, positionals));
  expect(error).toBeInstanceOf(ArgumentError);
  return (error as Error).message;
};

interface Captured extends CommandIo {
  readonly out: string[];
  readonly err: string[];
}

const captured = (stdin?: string): Captured => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    environment: { dockerConfigFile: '/nonexistent/config.json' },
    ...(stdin !== undefined
      ? {
          readStdin: (max: number) =>
            Buffer.byteLength(stdin) > max
              ? Promise.reject(new Error('standard input too large'))
              : Promise.resolve(Buffer.from(stdin)),
        }
      : {}),
  };
};

describe('parseHelmRepositoryArgs', () => {
  it('without --repo is the OCI form, and refuses the repository-only flags', () => {
    expect(parse({})).toBeUndefined();
    expect(parse({ devel: false, 'pass-credentials': false, 'password-stdin': false })).toBeUndefined();
    expect(refusal({ version: '1.0.0' })).toContain('--version');
    expect(refusal({ username: 'u', password: 'p' })).toContain('--username, --password');
    expect(refusal({ 'pass-credentials': true })).toContain('--repo');
  });

  it('reads --repo, the chart and helm-shaped defaults', () => {
    const request = parse({ repo: REPO });
    expect(request).toMatchObject({
      repositoryUrl: REPO,
      chart: 'payment',
      version: '',
      username: undefined,
      password: undefined,
      passCredentials: false,
      requestTimeoutMs: 30_000,
      operationTimeoutMs: 120_000,
    });
    expect(parse({ repo: REPO, version: '~3.1' })?.version).toBe('~3.1');
  });

  it('--devel without --version is ">0.0.0-0" (helm pull); --version wins over it', () => {
    expect(parse({ repo: REPO, devel: true })?.version).toBe('>0.0.0-0');
    expect(parse({ repo: REPO, devel: true, version: '1.0.0' })?.version).toBe('1.0.0');
  });

  it('needs exactly one chart name, not a path or a reference', () => {
    expect(refusal({ repo: REPO }, [])).toContain('exactly one');
    expect(refusal({ repo: REPO }, ['a', 'b'])).toContain('exactly one');
    for (const chart of ['charts/payment', 'oci://x/payment', '..', 'pay ment', 'a?b', 'x'.repeat(251)])
      expect(refusal({ repo: REPO }, [chart])).toContain('chart name');
  });

  it('refuses a repository URL helm could read otherwise, before anything is read', () => {
    for (const url of [
      'ftp://charts.example.com',
      'https://user:pw@charts.example.com',
      'charts.example.com',
      'https://x/a b',
    ]) {
      const error = thrown(() => parse({ repo: url }));
      expect(error).toBeInstanceOf(HelmRepositoryError);
      expect((error as HelmRepositoryError).code).toBe('InvalidRepositoryUrl');
      expect((error as Error).message).not.toContain('pw');
      expect(helmChartErrorExit(error)).toEqual({ exit: EXIT.usage, code: 'InvalidRepositoryUrl' });
    }
  });

  it('credentials: a username needs a password from one place; a password needs a username', () => {
    expect(parse({ repo: REPO, username: 'u', password: 'p' })?.password).toEqual({
      from: 'flag',
      value: 'p',
    });
    expect(parse({ repo: REPO, username: 'u', 'password-stdin': true })?.password).toEqual({ from: 'stdin' });
    expect(refusal({ repo: REPO, username: 'u', password: 'p', 'password-stdin': true })).toContain(
      'exclude',
    );
    expect(refusal({ repo: REPO, password: 'p' })).toContain('need --username');
    expect(refusal({ repo: REPO, 'password-stdin': true })).toContain('need --username');
    expect(refusal({ repo: REPO, username: 'u' })).toContain('--username needs');
  });

  it('--cert-file and --key-file go together; OCI-only flags are refused', () => {
    expect(refusal({ repo: REPO, 'cert-file': 'c.pem' })).toContain('together');
    expect(refusal({ repo: REPO, 'key-file': 'k.pem' })).toContain('together');
    expect(refusal({ repo: REPO, insecure: true })).toContain('--insecure');
    expect(refusal({ repo: REPO, 'docker-config': 'c.json' })).toContain('--docker-config');
    expect(refusal({ repo: REPO, 'registry-request-timeout': 'soon' })).toContain('duration');
  });
});

describe('passwordFromStdin', () => {
  it('drops one trailing \\n, then one \\r, as helm repo add --password-stdin', () => {
    expect(passwordFromStdin(Buffer.from('s3cret\n'))).toBe('s3cret');
    expect(passwordFromStdin(Buffer.from('s3cret\r\n'))).toBe('s3cret');
    expect(passwordFromStdin(Buffer.from('s3cret\n\n'))).toBe('s3cret\n');
    expect(passwordFromStdin(Buffer.from(' s3cret '))).toBe(' s3cret ');
  });
});

describe('createHelmRepositoryClient', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-helm-cli-'));
  });

  it('warns on stderr about --password, without the password', async () => {
    const io = captured();
    const request = parse({ repo: REPO, username: 'alice', password: 'hunter2-pw' });
    const client = await createHelmRepositoryClient(request!, 'verify', io);
    await client.close();
    expect(io.err.join('')).toContain('prefer --password-stdin');
    expect(io.err.join('') + io.out.join('')).not.toContain('hunter2-pw');
  });

  it('--password-stdin: reads stdin (capped), refuses an empty one and a missing one', async () => {
    const request = parse({ repo: REPO, username: 'alice', 'password-stdin': true })!;
    const ok = captured('from-stdin\n');
    await (await createHelmRepositoryClient(request, 'scan', ok)).close();
    expect(ok.err).toEqual([]);
    await expect(createHelmRepositoryClient(request, 'scan', captured('\n'))).rejects.toThrow(
      /held no password/,
    );
    await expect(createHelmRepositoryClient(request, 'scan', captured())).rejects.toThrow(
      /no standard input/,
    );
    await expect(
      createHelmRepositoryClient(request, 'scan', captured('x'.repeat(70_000))),
    ).rejects.toBeInstanceOf(ArgumentError);
  });

  it('an unreadable PEM file is an ArgumentError naming the file', async () => {
    const missing = join(dir, 'missing.pem');
    const request = parse({ repo: REPO, 'ca-file': missing })!;
    const error = await createHelmRepositoryClient(request, 'verify', captured()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toContain(missing);
  });
});

describe('withoutQuery', () => {
  it('keeps scheme, host and path only', () => {
    expect(withoutQuery(new URL('https://cdn.example.com:8443/c/payment-1.0.0.tgz?X-Sig=abc#f'))).toBe(
      'https://cdn.example.com:8443/c/payment-1.0.0.tgz',
    );
  });
});

describe('verify and scan --repo: usage errors exit 2 before any request', () => {
  let policy: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-helm-cli-'));
    policy = join(dir, 'av.yaml');
    await writeFile(
      policy,
      'apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\nspec:\n  artifact: {url: "oci://x.example/p", tag: "1"}\n  verify:\n    provenance:\n      - name: release\n        publicKey: "x"\n',
    );
  });

  const cases: [string, string[]][] = [
    ['a version without --repo', ['oci://r.example/p:1', '--version', '1.0.0']],
    ['two charts', ['--repo', REPO, 'a', 'b']],
    ['a username without password', ['--repo', REPO, 'payment', '--username', 'u']],
  ];

  for (const [name, args] of cases) {
    it(`verify: ${name}`, async () => {
      const io = captured();
      expect(await verifyCommand([...args, '--policy', policy], io)).toBe(EXIT.usage);
      expect(io.err.join('')).not.toContain('SECRET-TOKEN');
    });
    it(`scan: ${name}`, async () => {
      const io = captured();
      expect(await scanCommand([...args, '--helm', 'none'], io)).toBe(EXIT.usage);
      expect(io.err.join('')).not.toContain('SECRET-TOKEN');
    });
  }

  it('--help lists the repository options', async () => {
    const io = captured();
    expect(await verifyCommand(['--help'], io)).toBe(EXIT.ok);
    expect(io.out.join('')).toContain('--password-stdin');
    const scan = captured();
    expect(await scanCommand(['--help'], scan)).toBe(EXIT.ok);
    expect(scan.out.join('')).toContain('--pass-credentials');
  });
});
