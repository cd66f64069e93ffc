import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { caddyfile, caddyfileProblem, type CaddyfileOptions } from '../host/caddyfile';

const base: CaddyfileOptions = { domain: 'live.example.com', email: 'ops@example.com', server: '127.0.0.1:3000', nodes: { local: '127.0.0.1:4443', 'n2.eu': '127.0.0.1:4453' } };

/** `caddy validate` (Debian's Caddy) on the text: it loads every module the config names. */
async function validate(text: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'podlive-caddyfile-'));
  try {
    await writeFile(join(dir, 'Caddyfile'), text);
    await promisify(execFile)('caddy', ['validate', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the TLS proxy config (deploy/host/caddyfile.ts)', () => {
  it('for a public domain (ACME) and for the local CA, Caddy validates what it writes', { timeout: 30_000 }, async () => {
    const acme = caddyfile(base);
    expect(acme).toContain('live.example.com {');
    expect(acme).toContain('email ops@example.com');
    expect(acme).not.toContain('tls internal');
    expect(acme).toMatch(/handle_path \/sfu\/n2\.eu\/\* \{\n\t\treverse_proxy 127\.0\.0\.1:4453/);
    await validate(acme);
    const local = caddyfile({ ...base, localCa: true, httpPort: 8080, httpsPort: 8443 });
    expect(local).toContain('tls internal');
    expect(local).toContain('skip_install_trust');
    expect(local).toContain('https_port 8443');
    await validate(local);
  });

  it('refuses what would make a broken or injected config, naming the fix', () => {
    expect(caddyfileProblem({ ...base, domain: '' })).toMatch(/--domain must be a host name/);
    expect(caddyfileProblem({ ...base, domain: 'https://live.example.com' })).toMatch(/--domain/);
    expect(caddyfileProblem({ ...base, domain: 'live.example.com {\n\trespond hi\n}' })).toMatch(/--domain/);
    expect(caddyfileProblem({ ...base, email: 'not an email' })).toMatch(/--email/);
    expect(caddyfileProblem({ ...base, nodes: { 'a b': '127.0.0.1:1' } })).toMatch(/node id/);
    expect(caddyfileProblem({ ...base, server: 'localhost' })).toMatch(/host:port/);
    expect(() => caddyfile({ ...base, domain: 'Bad Name' })).toThrow(/--domain/);
    expect(caddyfileProblem(base)).toBeNull();
  });

  it('npm run caddyfile prints it, or names the fix and exits 2 changing nothing', { timeout: 30_000 }, async () => {
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../host/caddyfile-cli.ts'), ...args])
      .then(({ stdout }) => ({ code: 0, stdout, stderr: '' }), (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }));
    const ok = await cli('--domain', 'live.example.com', '--node', 'n1=10.0.0.5:4443');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('handle_path /sfu/n1/* {\n\t\treverse_proxy 10.0.0.5:4443');
    expect(await cli()).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('--domain is required') });
    expect(await cli('--domain', 'live.example.com', '--node', 'n1')).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('--node must be <id>=<host:port>') });
  });
});
