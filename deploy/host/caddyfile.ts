/**
 * The Caddyfile of the TLS proxy in front of one PodLive host (Debian's Caddy 2.6): one origin for
 * everything a browser opens — the pages, /api and /ws go to the control plane (which proxies
 * pages to the web app); `/sfu/<node>/` goes to that media node's signalling WebSocket (wss), so
 * no second name or certificate is needed per node on the host. Media itself (UDP/TCP to the
 * nodes' WebRTC ports, TURN) does not pass through here.
 *
 * Certificates: ACME (Let's Encrypt / ZeroSSL) for a public domain, or Caddy's own local CA
 * (`localCa`, for LAN use and tests: trust its root, data/pki/authorities/local/root.crt). Caddy
 * answers http with a permanent redirect to https by itself; HSTS is added here for every answer.
 */
export interface CaddyfileOptions {
  /** The site's name, e.g. `live.example.com` (no scheme, no port). */
  domain: string;
  /** ACME account e-mail (expiry notices); none with `localCa`. */
  email?: string;
  /** Certificates from Caddy's local CA instead of ACME. */
  localCa?: boolean;
  /** Listening ports (default 80 and 443; tests use free high ports). */
  httpPort?: number;
  httpsPort?: number;
  /** Where Caddy keeps certificates and its CA (default: the service user's data directory). */
  storageDir?: string;
  /** Caddy's admin endpoint (`caddy reload`): an address, or `off` (default localhost:2019). */
  admin?: string;
  /** Listen on this address only (the host's other address is then free for TURN over TLS on 443). */
  bind?: string;
  /**
   * The TURN server's name (e.g. `turn.live.example.com`): Caddy obtains and renews its certificate
   * too (coturn's TLS listener uses a copy, see units.ts) and redirects browsers that open it.
   */
  turnName?: string;
  /** The control plane, `host:port`. */
  server: string;
  /** The media nodes on this host: id → public signalling listener `host:port`. */
  nodes: Record<string, string>;
}

const NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const UPSTREAM = /^[\w.-]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i;
const NODE_ID = /^[\w.-]{1,64}$/;

/** Why these options cannot make a Caddyfile, or null. */
export function caddyfileProblem(o: CaddyfileOptions): string | null {
  if (!NAME.test(o.domain)) return `--domain must be a host name like live.example.com (got "${o.domain}")`;
  if (o.turnName !== undefined && !NAME.test(o.turnName)) return `the TURN name must be a host name (got "${o.turnName}")`;
  if (o.bind !== undefined && !/^[\d.]+$|^[0-9a-f:]+$/i.test(o.bind)) return `the address to listen on must be an IP address (got "${o.bind}")`;
  if (o.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(o.email)) return `--email must be an e-mail address (got "${o.email}")`;
  if (!UPSTREAM.test(o.server)) return `the control plane must be host:port (got "${o.server}")`;
  for (const [id, upstream] of Object.entries(o.nodes)) {
    if (!NODE_ID.test(id)) return `a node id must be letters, digits, '.', '_' or '-' (got "${id}")`;
    if (!UPSTREAM.test(upstream)) return `node ${id} must be host:port (got "${upstream}")`;
  }
  return null;
}

export function caddyfile(o: CaddyfileOptions): string {
  const problem = caddyfileProblem(o);
  if (problem !== null) throw new Error(problem);
  const global = [
    o.httpPort !== undefined && o.httpPort !== 80 ? `http_port ${o.httpPort}` : null,
    o.httpsPort !== undefined && o.httpsPort !== 443 ? `https_port ${o.httpsPort}` : null,
    o.email !== undefined && !o.localCa ? `email ${o.email}` : null,
    // The local CA's root is handed to whoever must trust it; never put into this machine's store.
    o.localCa ? 'skip_install_trust' : null,
    o.storageDir !== undefined ? `storage file_system ${o.storageDir}` : null,
    o.admin !== undefined ? `admin ${o.admin}` : null,
    o.bind !== undefined ? `default_bind ${o.bind}` : null,
  ].filter((line) => line !== null);
  const nodes = Object.entries(o.nodes).map(([id, upstream]) => [
    `\t# Media node ${id}: its signalling WebSocket (the page opens wss://${o.domain}/sfu/${id}/?token=…).`,
    `\thandle_path /sfu/${id}/* {`,
    `\t\treverse_proxy ${upstream}`,
    '\t}',
  ].join('\n'));
  return [
    '# Written by deploy/host/caddyfile.ts (npm run caddyfile): make changes there, not here.',
    ...(global.length > 0 ? ['{', ...global.map((line) => `\t${line}`), '}', ''] : []),
    `${o.domain} {`,
    ...(o.localCa ? ['\ttls internal'] : []),
    '\tencode zstd gzip',
    // Deferred: it replaces the app's own (the same value) instead of adding a second one.
    '\theader {',
    '\t\tStrict-Transport-Security "max-age=31536000; includeSubDomains"',
    '\t\tdefer',
    '\t}',
    ...nodes,
    '\t# The pages, /api and /ws: the control plane.',
    '\thandle {',
    `\t\treverse_proxy ${o.server}`,
    '\t}',
    '}',
    ...(o.turnName === undefined ? [] : ['', `${o.turnName} {`, ...(o.localCa ? ['\ttls internal'] : []), `\tredir https://${o.domain}{uri}`, '}']),
    '',
  ].join('\n');
}
