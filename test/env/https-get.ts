// A GET over HTTP(S) with an optional private CA and client certificate, for readiness probes of the
// test servers (fetch cannot present a client certificate).
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

export interface ProbeOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface ProbeResult {
  status: number;
  body: string;
}

export const probe = async (url: string, options: ProbeOptions = {}): Promise<ProbeResult> => {
  const read = (file: string | undefined): Promise<Buffer | undefined> =>
    file ? readFile(file) : Promise.resolve(undefined);
  const [ca, cert, key] = await Promise.all([
    read(options.caFile),
    read(options.certFile),
    read(options.keyFile),
  ]);
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolveProbe, reject) => {
    const req = request(target, { method: 'GET', ca, cert, key, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolveProbe({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout probing ${url}`)));
    req.on('error', reject);
    req.end();
  });
};
