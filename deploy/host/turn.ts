/**
 * coturn on a PodLive host (Debian's `coturn` package, its own unit reading /etc/turnserver.conf).
 *
 * TURN over UDP and TCP on 3478, and over TLS on 443 for networks that let nothing else out (hotel
 * and office Wi-Fi). Caddy holds 443 on the host's main address, so TLS 443 needs a second address
 * for the TURN name (`turnIp`); without one, TLS listens on 5349 (reachable from most networks,
 * not the strictest). Credentials are the TURN REST API's: the control plane signs short-lived
 * ones with the shared secret (server/src/media/turn.ts), coturn checks them; no user database.
 *
 * coturn relays only to the media nodes: private, loopback and link-local peers are refused, so a
 * TURN allocation can't be used to reach the host's or the LAN's internal services.
 */
export interface TurnOptions {
  /** The TURN name browsers use, e.g. `turn.live.example.com`. */
  name: string;
  realm: string;
  secret: string;
  /** The address media nodes listen on (the one peer coturn may relay to, even if private). */
  mediaIp: string;
  /** A second public address for TURN alone (TLS on 443), or undefined (TLS on 5349). */
  turnIp?: string;
  /** Where coturn's copy of the certificate is (turn-cert.sh writes it). */
  certDir: string;
}

export const TURN_PORT = 3478;
export const TURN_RELAY_PORTS = { min: 49160, max: 49999 } as const;

export function turnTlsPort(o: Pick<TurnOptions, 'turnIp'>): number {
  return o.turnIp === undefined ? 5349 : 443;
}

/** The control plane's TURN_URLS for these options. */
export function turnUrls(o: Pick<TurnOptions, 'name' | 'turnIp'>): string {
  return [
    `turn:${o.name}:${TURN_PORT}?transport=udp`,
    `turn:${o.name}:${TURN_PORT}?transport=tcp`,
    `turns:${o.name}:${turnTlsPort(o)}?transport=tcp`,
  ].join(',');
}

const PRIVATE_PEERS = ['0.0.0.0-0.255.255.255', '10.0.0.0-10.255.255.255', '100.64.0.0-100.127.255.255', '127.0.0.0-127.255.255.255', '169.254.0.0-169.254.255.255', '172.16.0.0-172.31.255.255', '192.168.0.0-192.168.255.255', '::1', 'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];

export function turnserverConf(o: TurnOptions): string {
  return [
    '# Written by deploy/host (npm run deploy -- install): make changes there, not here.',
    '# Holds the TURN secret: root:turnserver, 0640.',
    ...(o.turnIp === undefined ? [] : [`listening-ip=${o.turnIp}`]),
    `listening-port=${TURN_PORT}`,
    `tls-listening-port=${turnTlsPort(o)}`,
    `relay-ip=${o.mediaIp}`,
    `min-port=${TURN_RELAY_PORTS.min}`,
    `max-port=${TURN_RELAY_PORTS.max}`,
    `realm=${o.realm}`,
    'use-auth-secret',
    `static-auth-secret=${o.secret}`,
    'fingerprint',
    `cert=${o.certDir}/cert.pem`,
    `pkey=${o.certDir}/key.pem`,
    'no-tlsv1',
    'no-tlsv1_1',
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    ...PRIVATE_PEERS.map((range) => `denied-peer-ip=${range}`),
    `allowed-peer-ip=${o.mediaIp}`,
    'user-quota=12',
    'total-quota=1200',
    'stale-nonce=600',
    'simple-log',
    'syslog',
    '',
  ].join('\n');
}

/** The daily job (podlive-turn-cert.service): copies the TURN name's certificate from Caddy's storage. */
export function turnCertScript(o: Pick<TurnOptions, 'name' | 'certDir'>, caddyCertificates: string): string {
  return [
    '#!/bin/bash',
    '# Written by deploy/host (npm run deploy -- install): make changes there, not here.',
    "# Copies the certificate Caddy obtained and renews for the TURN name to where coturn reads it,",
    '# readable by coturn alone, and restarts coturn when it changed.',
    'set -euo pipefail',
    `name=${o.name}`,
    `dest=${o.certDir}`,
    `src=$(ls -d ${caddyCertificates}/*/"$name" 2>/dev/null | head -n 1 || true)`,
    'if [ -z "$src" ]; then echo "no certificate for $name yet: Caddy obtains it once DNS points $name at this host"; exit 0; fi',
    'changed=0',
    'for pair in crt:cert.pem key:key.pem; do',
    '  from="$src/$name.${pair%%:*}"; to="$dest/${pair#*:}"',
    '  if ! cmp -s "$from" "$to"; then install -m 0640 -o root -g turnserver "$from" "$to"; changed=1; fi',
    'done',
    'if [ "$changed" = 1 ]; then systemctl try-restart coturn.service; echo "coturn has the new certificate for $name"; fi',
    '',
  ].join('\n');
}
