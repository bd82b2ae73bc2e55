// A real nginx (Debian's /usr/sbin/nginx) serving a directory on a loopback port, run as the current user
// with its own prefix, configuration, pid, logs and temp paths in a throw-away directory (`daemon off`,
// under the ProcessSupervisor). Options: TLS, basic auth (an apr1 htpasswd made by openssl), a required
// client certificate, redirects to another server. Its access log tells which requests carried credentials.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { waitFor, logTail, type ProcessSupervisor, type ServiceHandle } from './processes.ts';
import type { KeyPair } from './pki.ts';

/** Debian's nginx, outside a normal user's PATH; elsewhere the one on PATH. */
export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const exec = promisify(execFile);

export interface NginxOptions {
  /** Names the instance (its directory and log). */
  readonly name: string;
  /** The directory served at `/`. */
  readonly root: string;
  readonly tls?: { readonly serving: KeyPair; readonly caFile: string };
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** `on`: a client certificate signed by this CA is required (ssl_verify_client on). */
  readonly clientCaFile?: string;
  /**
   * `optional_no_ca`: asks for a client certificate without requiring one, so the access log shows whether
   * a client presented one (the second server of a credentials test).
   */
  readonly askClientCertificate?: boolean;
  /** No ETag and no If-Modified-Since handling: every GET answers 200 with the whole file. */
  readonly noValidators?: boolean;
  /** Bytes per second of each response (nginx limit_rate), e.g. to run into a client's deadline. */
  readonly limitRate?: number;
  /** A path prefix answered with a redirect: `{ from: '/moved/', to: 'https://host:port/', status: 302 }`. */
  readonly redirects?: readonly { readonly from: string; readonly to: string; readonly status?: number }[];
}

export interface AccessEntry {
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  /** The basic-auth user the request carried, '' for none. */
  readonly user: string;
  /** The subject of the client certificate presented, '' for none. */
  readonly clientCertificate: string;
  readonly bytesSent: number;
}

export interface NginxServer {
  readonly name: string;
  /** scheme://127.0.0.1:port */
  readonly url: string;
  readonly port: number;
  readonly handle: ServiceHandle;
  /** Every request so far, oldest first. */
  accessLog(): Promise<AccessEntry[]>;
  stop(): Promise<void>;
}

/** An apr1 (Apache MD5) hash: one of the schemes nginx's auth_basic reads itself, made by openssl. */
const htpasswdLine = async (username: string, password: string): Promise<string> => {
  const { stdout } = await exec('openssl', ['passwd', '-apr1', password]);
  return `${username}:${stdout.trim()}\n`;
};

const config = (dir: string, port: number, options: NginxOptions, htpasswd: string | undefined): string => {
  const ssl = options.tls
    ? [
        `ssl_certificate ${options.tls.serving.certFile};`,
        `ssl_certificate_key ${options.tls.serving.keyFile};`,
        ...(options.clientCaFile
          ? [`ssl_client_certificate ${options.clientCaFile};`, 'ssl_verify_client on;']
          : options.askClientCertificate
            ? ['ssl_verify_client optional_no_ca;']
            : []),
      ]
    : [];
  const redirects = (options.redirects ?? []).map(
    (r) => `location ^~ ${r.from} { return ${r.status ?? 302} ${r.to}$request_uri; }`,
  );
  const auth = htpasswd ? [`auth_basic "helm";`, `auth_basic_user_file ${htpasswd};`] : [];
  // As root, workers would drop to "nobody", who cannot read the served directory: they stay this user.
  const user = process.getuid?.() === 0 ? ['user root;'] : [];
  return `${user.join('\n')}
daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 256; }
http {
  log_format tagguard '$request_method\\t$uri\\t$status\\t$remote_user\\t$ssl_client_s_dn\\t$body_bytes_sent';
  access_log ${join(dir, 'access.log')} tagguard;
  client_body_temp_path ${join(dir, 'tmp', 'body')};
  proxy_temp_path ${join(dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(dir, 'tmp', 'scgi')};
  types { application/x-yaml yaml; application/gzip tgz; application/pgp-signature prov; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port}${options.tls ? ' ssl' : ''};
    server_name localhost;
    ${ssl.join('\n    ')}
    root ${options.root};
    ${options.noValidators ? 'etag off; if_modified_since off;' : ''}
    ${options.limitRate !== undefined ? `limit_rate ${options.limitRate};` : ''}
    ${redirects.join('\n    ')}
    location / {
      ${auth.join('\n      ')}
    }
  }
}
`;
};

const start = async (
  supervisor: ProcessSupervisor,
  dir: string,
  options: NginxOptions,
  htpasswd: string | undefined,
): Promise<NginxServer> => {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, config(dir, port, options, htpasswd));
  await writeFile(join(dir, 'access.log'), '');
  const handle = supervisor.start(options.name, NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  await waitFor(
    `${options.name} on ${url}`,
    async () => {
      // Any HTTP answer (401 without credentials, 400 without the required client certificate) means up.
      const res = await probe(`${url}/`, options.tls ? { caFile: options.tls.caFile } : {});
      return res.status > 0 ? true : undefined;
    },
    { timeoutMs: 15_000, process: handle },
  );
  return {
    name: options.name,
    url,
    port,
    handle,
    accessLog: async () => {
      // nginx writes a request's line after its response went out: a client that has its answer may read
      // the log before the line is there (seen under load). Read until two reads 150 ms apart agree.
      const read = (): Promise<string> => readFile(join(dir, 'access.log'), 'utf8');
      let text = await read();
      for (let i = 0; i < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        const again = await read();
        if (again === text) break;
        text = again;
      }
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [method = '', uri = '', status = '0', user = '', dn = '', bytes = '0'] = line.split('\t');
          return {
            method,
            uri,
            status: Number(status),
            user: user === '-' ? '' : user,
            clientCertificate: dn === '-' ? '' : dn,
            bytesSent: Number(bytes),
          };
        });
    },
    stop: () => handle.stop(),
  };
};

/** Starts nginx under `supervisor`, in `<baseDir>/<name>`; retries a start that lost its port to a race. */
export const startNginx = async (
  supervisor: ProcessSupervisor,
  baseDir: string,
  options: NginxOptions,
): Promise<NginxServer> => {
  const dir = join(baseDir, options.name);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    await mkdir(join(dir, 'tmp', sub), { recursive: true });
  let htpasswd: string | undefined;
  if (options.basicAuth) {
    htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, await htpasswdLine(options.basicAuth.username, options.basicAuth.password));
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(supervisor, dir, options, htpasswd);
    } catch (error) {
      const log = logTail(join(dir, 'error.log'));
      if (attempt >= 3 || !/Address already in use/.test(log)) throw error;
    }
  }
};
