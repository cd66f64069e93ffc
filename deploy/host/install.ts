/**
 * Installs PodLive on one Debian host (npm run deploy -- install --domain live.example.com): the
 * system packages, the service user, Caddy (TLS, ACME) and coturn configs, an env file with
 * generated secrets, systemd units for every process; then starts them when systemd runs here.
 *
 * Idempotent: every file is written only when it differs and secrets already in the env file are
 * kept, so a second run changes nothing. Everything is checked before anything is written (a bad
 * domain or address, a port another program holds, a checkout not set up): an error names the fix
 * and leaves the machine as it was.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { behindProxyEnv } from '../../web/behind-proxy.js';
import { caddyfile, caddyfileProblem, type CaddyfileOptions } from './caddyfile';
import { ensureDir, ensureSystemUser, groupId, idsOf, installPackages, missingPackages, run, systemdRunning, tcpPortHolders, writeIfChanged, type FileSpec } from './system';
import { TURN_PORT, TURN_RELAY_PORTS, turnCertScript, turnserverConf, turnTlsPort, turnUrls } from './turn';
import { systemdUnits, type HostLayout } from './units';

export interface InstallOptions {
  domain: string;
  email?: string;
  /** Certificates from Caddy's local CA (LAN, tests) instead of ACME. */
  localCa: boolean;
  /** The host's address media nodes listen on. */
  listenIp: string;
  /** Its public address, when NAT puts one in front (cloud VMs). */
  publicIp?: string;
  /** A second public address for TURN over TLS on 443. */
  turnIp?: string;
  /** Media nodes on this host. */
  nodes: number;
  /** Existing PostgreSQL; default: a local database made for the service user. */
  databaseUrl?: string;
  redisUrl: string;
  user: string;
  /** The checkout the processes run from. */
  repo: string;
  /** The mediasoup-worker binary to install. */
  workerBin: string;
  /** Prefix for every file written (tests); `/` on a real host. */
  root: string;
}

export class InstallError extends Error {}

export const PACKAGES = ['caddy', 'coturn', 'ffmpeg', 'postgresql', 'redis-server', 'libssl3', 'libuv1', 'libsrtp2-1', 'libusrsctp2', 'libabsl20220623', 'ca-certificates'];

const PATHS = {
  envFile: '/etc/podlive/podlive.env',
  nodeEnvFile: '/etc/podlive/sfu-%i.env',
  dataDir: '/var/lib/podlive',
  worker: '/usr/local/lib/podlive/mediasoup-worker',
  turnCertScript: '/usr/local/lib/podlive/turn-cert.sh',
  turnCertDir: '/etc/podlive/turn',
  caddyfile: '/etc/caddy/Caddyfile',
  caddyCertificates: '/var/lib/caddy/.local/share/caddy/certificates',
  turnserverConf: '/etc/turnserver.conf',
  sysctl: '/etc/sysctl.d/60-podlive.conf',
  units: '/etc/systemd/system',
} as const;

/** `metrics`: the control plane's /metrics listener; the recorder's is the next port, media node i's `metrics + 10 + i` (127.0.0.1: Prometheus on this host scrapes them). */
const PORTS = { server: 3000, web: 3001, recorder: 3002, sfu: 4443, rtc: 40000, metrics: 9464 } as const;
const SECRETS = ['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'TURN_SECRET'] as const;
const IP = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-f:]+:[0-9a-f:]*$/i;

export const nodeIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `node${i + 1}`);
const turnName = (domain: string) => `turn.${domain}`;

/** Why these options can't be installed, or null (checked before anything is touched). */
export function installProblem(o: InstallOptions): string | null {
  if (!o.domain) return '--domain is required: the name browsers will use, e.g. --domain live.example.com (its DNS A record must point at this host)';
  for (const [flag, ip] of [['--listen-ip', o.listenIp], ['--public-ip', o.publicIp], ['--turn-ip', o.turnIp]] as const) {
    if (ip !== undefined && !IP.test(ip)) return `${flag} must be an IP address (got "${ip}")`;
  }
  if (o.turnIp !== undefined && o.turnIp === (o.publicIp ?? o.listenIp)) return '--turn-ip must be a second address: Caddy holds 443 on the first one';
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 16) return `--nodes must be 1 to 16 (got ${o.nodes})`;
  if (o.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(o.databaseUrl)) return `--database-url must be postgres://… (got "${o.databaseUrl}")`;
  if (!/^rediss?:\/\//.test(o.redisUrl)) return `--redis-url must be redis://… (got "${o.redisUrl}")`;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(o.user)) return `--user must be a system user name (got "${o.user}")`;
  return caddyfileProblem(caddyOptions(o));
}

function caddyOptions(o: InstallOptions): CaddyfileOptions {
  return {
    domain: o.domain,
    ...(o.email === undefined ? {} : { email: o.email }),
    localCa: o.localCa,
    ...(o.turnIp === undefined ? {} : { bind: o.listenIp }),
    turnName: turnName(o.domain),
    server: `127.0.0.1:${PORTS.server}`,
    nodes: Object.fromEntries(nodeIds(o.nodes).map((id, i) => [id, `127.0.0.1:${PORTS.sfu + 10 * i}`])),
  };
}

/** Programs of ours that may already hold a port (a second run): anything else is in the way. */
const OURS = new Set(['caddy', 'turnserver']);

async function checkPorts(o: InstallOptions): Promise<void> {
  const wanted: [number, string, string][] = [
    [80, o.listenIp, 'Caddy (http → https, ACME)'],
    [443, o.listenIp, 'Caddy (https)'],
    [TURN_PORT, o.turnIp ?? o.listenIp, 'coturn'],
    ...(o.turnIp === undefined ? [] : [[443, o.turnIp, 'coturn (TURN over TLS)'] as [number, string, string]]),
  ];
  for (const [port, address, what] of wanted) {
    const other = (await tcpPortHolders(port, address)).find((h) => !OURS.has(h.process));
    if (other !== undefined) {
      throw new InstallError(`port ${port} on ${other.address} is held by ${other.process}${other.pid === null ? '' : ` (pid ${other.pid})`}, and ${what} needs it: stop and disable that service (e.g. systemctl disable --now ${other.process}), then run install again`);
    }
  }
}

async function checkCheckout(o: InstallOptions): Promise<void> {
  for (const [path, fix] of [['node_modules', 'npm run setup'], ['web/build/index.js', 'npm run setup (it builds the web app)']]) {
    if ((await readFile(join(o.repo, path)).catch((e: NodeJS.ErrnoException) => e.code)) === 'ENOENT') throw new InstallError(`${join(o.repo, path)} is missing: run ${fix} in ${o.repo} first`);
  }
}

function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env.set(m[1] as string, m[2] as string);
  }
  return env;
}

const envText = (header: string, vars: Record<string, string | undefined>) =>
  [header, ...Object.entries(vars).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`), ''].join('\n');

/** Creates the local database and its role (peer authentication: the service user, no password). */
async function provisionDatabase(user: string): Promise<string> {
  const psql = (sql: string) => run('runuser', ['-u', 'postgres', '--', 'psql', '-qtAc', sql]);
  if ((await psql(`SELECT 1 FROM pg_roles WHERE rolname = '${user}'`)).trim() !== '1') await psql(`CREATE ROLE "${user}" LOGIN`);
  if ((await psql(`SELECT 1 FROM pg_database WHERE datname = '${user}'`)).trim() !== '1') await psql(`CREATE DATABASE "${user}" OWNER "${user}"`);
  return `postgres://${user}@localhost/${user}?host=/var/run/postgresql`;
}

/**
 * The shared env file. Settings added by hand (SMTP_*, AWS_*, …) are kept, after the ones install
 * manages, so running install again never loses them.
 */
function sharedEnvText(o: InstallOptions, existing: Map<string, string>, computed: Record<string, string>): string {
  const managed: Record<string, string> = {
    PUBLIC_URL: `https://${o.domain}`,
    DATA_DIR: PATHS.dataDir,
    REDIS_URL: o.redisUrl,
    SFU_PLACEMENT: 'fleet',
    SERVER_URL: `http://127.0.0.1:${PORTS.server}`,
    WEB_URL: `http://127.0.0.1:${PORTS.web}`,
    RECORDER_URL: `http://127.0.0.1:${PORTS.recorder}`,
    MEDIASOUP_WORKER_BIN: PATHS.worker,
    ...computed,
  };
  const byHand = Object.fromEntries([...existing].filter(([key]) => !(key in managed)));
  const header = `# Written by deploy/host (npm run deploy -- install). Holds secrets: root:${o.user}, 0640.`;
  return Object.keys(byHand).length === 0 ? envText(header, managed) : `${envText(header, managed)}# Added by hand (kept by install):\n${envText('', byHand).slice(1)}`;
}

export interface InstallReport {
  /** What was written or created (empty on a run that changed nothing). */
  changed: string[];
  /** Lines for the operator: the firewall, what to start. */
  notes: string[];
}

export async function install(o: InstallOptions, log: (line: string) => void = () => {}): Promise<InstallReport> {
  const problem = installProblem(o);
  if (problem !== null) throw new InstallError(problem);
  await checkCheckout(o);
  await checkPorts(o);
  const changed: string[] = [];
  const at = (path: string) => join(o.root, path);

  const missing = await missingPackages(PACKAGES);
  if (missing.length > 0) {
    log(`installing ${missing.join(' ')}`);
    await installPackages(missing);
    changed.push(`packages: ${missing.join(' ')}`);
  }
  if (await ensureSystemUser(o.user, PATHS.dataDir)) changed.push(`user ${o.user}`);
  const ids = await idsOf(o.user);
  const turnGid = await groupId('turnserver');
  if (ids === null || turnGid === null) throw new InstallError(`user ${o.user} or group turnserver is missing after install`);
  const rootIds = { uid: 0, gid: 0 };

  const envPath = at(PATHS.envFile);
  const existing = parseEnv(await readFile(envPath, 'utf8').catch(() => ''));
  const secret = (name: (typeof SECRETS)[number]) => existing.get(name) ?? randomBytes(32).toString('base64url');
  const secrets = Object.fromEntries(SECRETS.map((name) => [name, secret(name)])) as Record<(typeof SECRETS)[number], string>;
  const databaseUrl = o.databaseUrl ?? existing.get('DATABASE_URL') ?? (await provisionDatabase(o.user));
  const turn = { name: turnName(o.domain), realm: o.domain, secret: secrets.TURN_SECRET, mediaIp: o.listenIp, ...(o.turnIp === undefined ? {} : { turnIp: o.turnIp }), certDir: PATHS.turnCertDir };
  const layout: HostLayout = { repo: o.repo, node: process.execPath, user: o.user, envFile: PATHS.envFile, nodeEnvFile: PATHS.nodeEnvFile, dataDir: PATHS.dataDir, turnCertScript: PATHS.turnCertScript };
  const nodes = nodeIds(o.nodes);
  const workers = cpus().length;
  const rtcEnd = PORTS.rtc + 100 * (o.nodes - 1) + workers - 1;

  const files: FileSpec[] = [
    {
      path: envPath,
      mode: 0o640,
      ...rootIds,
      gid: ids.gid,
      content: sharedEnvText(o, existing, { DATABASE_URL: databaseUrl, TURN_URLS: turnUrls(turn), ...secrets }),
    },
    ...nodes.map((id, i): FileSpec => ({
      path: at(PATHS.nodeEnvFile.replace('%i', id)),
      mode: 0o644,
      ...rootIds,
      content: envText(`# Written by deploy/host: media node ${id}.`, {
        SFU_NODE_ID: id,
        SFU_HOST: '127.0.0.1',
        SFU_PORT: String(PORTS.sfu + 10 * i),
        SFU_CONTROL_PORT: String(PORTS.sfu + 10 * i + 1),
        SFU_PUBLIC_WS_URL: `wss://${o.domain}/sfu/${id}/`,
        RTC_LISTEN_IP: o.listenIp,
        RTC_ANNOUNCED_IP: o.publicIp !== undefined && o.publicIp !== o.listenIp ? o.publicIp : undefined,
        RTC_PORT_BASE: String(PORTS.rtc + 100 * i),
        METRICS_PORT: String(PORTS.metrics + 10 + i),
        PORT: undefined,
      }),
    })),
    { path: at(PATHS.caddyfile), mode: 0o644, ...rootIds, content: caddyfile(caddyOptions(o)) },
    { path: at(PATHS.turnserverConf), mode: 0o640, uid: 0, gid: turnGid, content: turnserverConf(turn) },
    { path: at(PATHS.turnCertScript), mode: 0o755, ...rootIds, content: turnCertScript(turn, PATHS.caddyCertificates) },
    // Outgoing connections take local ports from 32768–60999: keep them off the media and relay ports.
    { path: at(PATHS.sysctl), mode: 0o644, ...rootIds, content: `# Written by deploy/host: the media nodes' and coturn's ports are never given to outgoing connections.\nnet.ipv4.ip_local_reserved_ports = ${PORTS.rtc}-${rtcEnd},${TURN_RELAY_PORTS.min}-${TURN_RELAY_PORTS.max}\n` },
    { path: at(PATHS.worker), mode: 0o755, ...rootIds, content: await readFile(o.workerBin) },
    ...Object.entries(systemdUnits(layout, nodes, { server: PORTS.server, web: PORTS.web, recorder: PORTS.recorder, serverMetrics: PORTS.metrics, recorderMetrics: PORTS.metrics + 1 }, behindProxyEnv(`http://127.0.0.1:${PORTS.server}`))).map(
      ([name, content]): FileSpec => ({ path: at(join(PATHS.units, name)), mode: 0o644, ...rootIds, content }),
    ),
  ];
  if (await ensureDir(at(PATHS.dataDir), 0o750, ids.uid, ids.gid)) changed.push(PATHS.dataDir);
  if (await ensureDir(at(PATHS.turnCertDir), 0o750, 0, turnGid)) changed.push(PATHS.turnCertDir);
  for (const f of files) if (await writeIfChanged(f)) changed.push(f.path.slice(o.root.length - (o.root.endsWith('/') ? 1 : 0)));

  const notes = [
    'Open in the firewall (inbound):',
    `  tcp 80, 443 on ${o.listenIp}             browsers (http → https, the app, wss)`,
    `  udp+tcp ${PORTS.rtc}-${rtcEnd} on ${o.listenIp}   media (WebRTC; ${workers} port(s) per node)`,
    `  udp+tcp ${TURN_PORT} on ${o.turnIp ?? o.listenIp}          TURN`,
    `  tcp ${turnTlsPort(turn)} on ${o.turnIp ?? o.listenIp}              TURN over TLS (firewalled networks)`,
    `  udp ${TURN_RELAY_PORTS.min}-${TURN_RELAY_PORTS.max} on ${o.listenIp}     TURN relays`,
    `DNS: ${o.domain} → ${o.publicIp ?? o.listenIp}; ${turn.name} → ${o.turnIp ?? o.publicIp ?? o.listenIp}`,
  ];
  if (o.root === '/' && changed.includes(PATHS.sysctl)) await run('sysctl', ['-q', '-p', PATHS.sysctl]);
  if (o.root === '/' && (await systemdRunning())) {
    await run('systemctl', ['daemon-reload']);
    await run('systemctl', ['enable', '--now', 'podlive.target', 'podlive-turn-cert.timer', 'caddy.service', 'coturn.service']);
    if (changed.length > 0) await run('systemctl', ['restart', 'caddy.service', 'coturn.service', 'podlive.target']);
    await run('systemctl', ['start', 'podlive-turn-cert.service']);
    notes.push('Started: systemctl status podlive.target (logs: journalctl -u "podlive-*")');
  } else {
    notes.push(`systemd is not running here${o.root === '/' ? '' : ` (files written under ${o.root})`}: start the units' ExecStart lines by hand, or boot with systemd and run install again`);
  }
  return { changed, notes };
}
