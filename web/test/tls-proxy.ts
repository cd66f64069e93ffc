import { execFile, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitForTcp } from '@podlive/shared/testing/ports';
import { caddyfile, type CaddyfileOptions } from '../../deploy/host/caddyfile';

const exec = promisify(execFile);

/** Debian's Caddy running the Caddyfile deploy/host writes, with its local CA (a test's `tls internal`). */
export interface TlsProxy {
  /** The local CA's root certificate (PEM file). */
  rootCert: string;
  /** A HOME whose NSS database trusts that root (Chromium reads $HOME/.pki/nssdb). */
  home: string;
  /** The certificate and key Caddy made for one of its site names (PEM files), once it has. */
  certificate(name: string): Promise<{ cert: string; key: string }>;
  close(): Promise<void>;
}

export async function startTlsProxy(options: Omit<CaddyfileOptions, 'localCa' | 'storageDir' | 'admin'>): Promise<TlsProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'podlive-caddy-'));
  const config = join(dir, 'Caddyfile');
  await writeFile(config, caddyfile({ ...options, localCa: true, storageDir: join(dir, 'data'), admin: 'off' }));
  const child = spawn('caddy', ['run', '--config', config, '--adapter', 'caddyfile'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOME: dir } });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcp(options.bind ?? '127.0.0.1', options.httpsPort ?? 443, 15_000, 'caddy');
    const rootCert = join(dir, 'data', 'pki', 'authorities', 'local', 'root.crt');
    // The CA exists once Caddy made the site's certificate: ask for the site once (any answer will do).
    const home = join(dir, 'home');
    const nss = join(home, '.pki', 'nssdb');
    await mkdir(nss, { recursive: true });
    for (let i = 0; ; i++) {
      try {
        await exec('certutil', ['-d', `sql:${nss}`, '-N', '--empty-password']).catch(() => undefined);
        await exec('certutil', ['-d', `sql:${nss}`, '-A', '-t', 'C,,', '-n', 'podlive-test-ca', '-i', rootCert]);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const certificate = async (name: string) => {
      const base = join(dir, 'data', 'certificates', 'local', name, name);
      const files = { cert: `${base}.crt`, key: `${base}.key` };
      for (let i = 0; !(await access(files.key).then(() => true, () => false)); i++) {
        if (i > 150) throw new Error(`Caddy made no certificate for ${name}:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return files;
    };
    return { rootCert, home, certificate, close };
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
}
