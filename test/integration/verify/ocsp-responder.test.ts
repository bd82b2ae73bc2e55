// checkOcsp over real HTTP (createRevocationHttp, undici) against real `openssl ocsp -port` responder
// processes answering from an `openssl ca` index: good, revoked after `openssl ca -revoke` (the responder
// re-reads a changed index), GET and POST, the 20 480-byte cap on the wire, and a responder that is
// down or stalled giving "unknown" within the transport's timeout.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SigningCertificate } from '../../../src/verify/notation/certificate.ts';
import type { CertRevocationResult } from '../../../src/verify/notation/revocation/types.ts';
import { createRevocationHttp } from '../../../src/registry/revocation-http.ts';
import { checkOcsp } from '../../../src/verify/notation/revocation/ocsp.ts';
import { freePort } from '../../env/ports.ts';
import { ProcessSupervisor, waitFor, type ServiceHandle } from '../../env/processes.ts';
import { OpensslCa, type Issued, type RespondOptions } from '../../env/openssl-ca.ts';

const env = inject('testEnv');
const TIMEOUT_MS = 1_000;

interface Responder {
  readonly url: string;
  readonly process: ServiceHandle;
}

describe('OCSP against an openssl ocsp responder over HTTP', () => {
  let supervisor: ProcessSupervisor;
  let ca: OpensslCa;
  let delegated: Issued;
  let responder: Responder;
  let oversized: Responder;
  let deadUrl: string;
  const http = createRevocationHttp({ timeoutMs: TIMEOUT_MS, userAgent: 'tagguard-test' });

  /** Starts `openssl ocsp -port` (a new port if another process took the one we picked). */
  const startResponder = async (name: string, options: RespondOptions): Promise<Responder> => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const handle = supervisor.start(name, 'openssl', [...ca.responderArgs(options), '-port', String(port)]);
      const url = `http://127.0.0.1:${port}/`;
      try {
        await waitFor(
          `${name} to answer`,
          async () => {
            const cert = await ca.issueUnrecorded(`${name}-probe-${attempt}`, '01', [url]);
            const result = await checkOcsp(cert.cert, ca.ca.cert, http, { now: new Date() });
            return result.detail?.includes('FetchFailed') ? undefined : result;
          },
          { timeoutMs: 15_000, intervalMs: 200, process: handle },
        );
        return { url, process: handle };
      } catch (error) {
        await handle.stop();
        if (attempt === 3) throw error;
      }
    }
  };

  const withServers = (cert: SigningCertificate, ...servers: string[]): SigningCertificate => ({
    ...cert,
    ocspServers: servers,
  });

  const check = (cert: SigningCertificate, options: { signingTime?: Date } = {}) =>
    checkOcsp(cert, ca.ca.cert, http, { now: new Date(), ...options });

  /**
   * openssl ocsp looks at index.txt before it waits for a connection, so the request right after an
   * `openssl ca` change may still get the old answer: poll until the responder gives `status`.
   */
  const settled = (cert: SigningCertificate, status: CertRevocationResult['status'], responder: Responder) =>
    waitFor(
      `the responder to answer ${status}`,
      async () => {
        const result = await check(cert);
        return result.status === status ? result : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, process: responder.process },
    );

  beforeAll(async () => {
    const dir = join(env.runDir, `ocsp-${Date.now().toString(36)}`);
    await mkdir(dir, { recursive: true });
    supervisor = new ProcessSupervisor(dir);
    ca = await OpensslCa.create(join(dir, 'ca'), 'OCSP Integration CA');
    delegated = await ca.issue('ocsp responder', { extKeyUsage: ['OCSPSigning'] });
    responder = await startResponder('openssl-ocsp', { signer: delegated, days: 1 });
    const many = join(dir, 'many.pem');
    await writeFile(many, (await readFile(ca.ca.certFile, 'utf8')).repeat(60));
    oversized = await startResponder('openssl-ocsp-oversized', {
      signer: ca.ca,
      days: 1,
      otherCertsFile: many,
    });
    deadUrl = `http://127.0.0.1:${await freePort()}/`; // nothing listens there
  });

  afterAll(async () => {
    await http.close();
    await supervisor?.stopAll();
  });

  it('good, then revoked once `openssl ca -revoke` has changed the index the responder reads', async () => {
    const leaf = await ca.issue('leaf', { ocspUrls: [responder.url] });
    expect(await settled(leaf.cert, 'ok', responder)).toMatchObject({ method: 'ocsp' });
    await ca.revoke(leaf);
    const result = await settled(leaf.cert, 'revoked', responder);
    expect(result.detail).toContain(responder.url);
    expect((await check(leaf.cert)).status).toBe('revoked');
  });

  it('revoked with an invalidity date after the signing time → ok (notation’s signingTime rule)', async () => {
    const leaf = await ca.issue('compromised', { ocspUrls: [responder.url] });
    const invalidity = new Date(Date.now() + 3_600_000);
    await ca.revoke(leaf, { invalidityDate: invalidity });
    await settled(leaf.cert, 'revoked', responder);
    expect((await check(leaf.cert, { signingTime: new Date() })).status).toBe('ok');
    const later = new Date(invalidity.getTime() + 60_000);
    expect((await check(leaf.cert, { signingTime: later })).status).toBe('revoked');
  });

  it('a request too long for GET goes by POST and is answered', async () => {
    const long = await ca.issue('long serial', {
      ocspUrls: [responder.url],
      serialHex: `7a${'cd'.repeat(115)}`,
    });
    await settled(long.cert, 'ok', responder);
    const log = await readFile(responder.process.logFile, 'utf8');
    expect(log).toMatch(/1st line: POST \/ HTTP/);
  });

  it('a response over 20 480 bytes is cut off by the transport → unknown (TooLarge)', async () => {
    const leaf = await ca.issue('oversized', { ocspUrls: [oversized.url] });
    const result = await check(leaf.cert);
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('TooLarge');
  });

  it('a responder that is down → unknown at once; the next server is asked', async () => {
    const leaf = await ca.issue('fallback', { ocspUrls: [responder.url] });
    await settled(leaf.cert, 'ok', responder);
    const started = performance.now();
    const down = await check(withServers(leaf.cert, deadUrl));
    const elapsed = performance.now() - started;
    expect(down.status).toBe('unknown');
    expect(down.detail).toContain('FetchFailed');
    expect(elapsed).toBeLessThan(TIMEOUT_MS); // refused, not timed out
    expect((await check(withServers(leaf.cert, deadUrl, responder.url))).status).toBe('ok');
  });

  it('a responder that accepts but never answers → unknown after the transport timeout', async () => {
    const leaf = await ca.issue('stalled', { ocspUrls: [responder.url] });
    const stalled = await startResponder('openssl-ocsp-stalled', { signer: delegated, days: 1 });
    process.kill(stalled.process.pid, 'SIGSTOP'); // the socket stays open; nothing reads it
    try {
      const started = performance.now();
      const result = await check(withServers(leaf.cert, stalled.url));
      const elapsed = performance.now() - started;
      expect(result.status).toBe('unknown');
      expect(result.detail).toContain('FetchFailed');
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
      expect(elapsed).toBeLessThan(TIMEOUT_MS * 5);
    } finally {
      process.kill(stalled.process.pid, 'SIGCONT');
      await stalled.process.stop();
    }
  });
});
