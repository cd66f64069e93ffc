import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * A network namespace joined to this machine by a veth pair, for a browser that must see a
 * different network than the tests' servers: the host side gets `hostIps` (servers listen there),
 * the namespace `nsIp` and a default route through the first host address. `firewall(true)` lets
 * nothing out of the namespace but TCP to port 443 (a hotel or office network); `firewall(false)`
 * lifts it. Needs root, iproute2 and nftables.
 */
export interface FirewalledNetwork {
  name: string;
  hostIps: readonly string[];
  nsIp: string;
  /** An executable that runs Chromium inside the namespace (playwright's executablePath). */
  chromium: string;
  firewall(on: boolean): Promise<void>;
  close(): Promise<void>;
}

const RULES = `flush ruleset
table inet podlive_fw {
  chain output {
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ct state established,related accept
    tcp dport 443 accept
  }
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
  }
}
`;

export async function createFirewalledNetwork(o: { prefix: string; hostIps: string[]; nsIp: string }): Promise<FirewalledNetwork> {
  const id = `${process.pid % 100000}`;
  const name = `podlive-fw-${id}`;
  const [hostIf, nsIf] = [`plfw${id}h`, `plfw${id}n`];
  const dir = await mkdtemp(join(tmpdir(), 'podlive-netns-'));
  const ip = (...args: string[]) => exec('ip', args);
  const inNs = (...args: string[]) => exec('ip', ['netns', 'exec', name, ...args]);
  const unlink = async () => {
    await ip('netns', 'del', name).catch(() => undefined);
    await ip('link', 'del', hostIf).catch(() => undefined);
  };
  const close = async () => {
    await unlink();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Left over by a run of this process id that was killed.
    await unlink();
    await ip('netns', 'add', name);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', name);
    for (const address of o.hostIps) await ip('addr', 'add', `${address}/${o.prefix}`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    await inNs('ip', 'addr', 'add', `${o.nsIp}/${o.prefix}`, 'dev', nsIf);
    await inNs('ip', 'link', 'set', nsIf, 'up');
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'route', 'add', 'default', 'via', o.hostIps[0] as string);
    const chromium = join(dir, 'chromium-in-netns');
    await writeFile(chromium, `#!/bin/sh\nexec ip netns exec ${name} ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} "$@"\n`);
    await chmod(chromium, 0o755);
    const rules = join(dir, 'firewall.nft');
    await writeFile(rules, RULES);
    return {
      name,
      hostIps: o.hostIps,
      nsIp: o.nsIp,
      chromium,
      firewall: async (on) => {
        await (on ? inNs('nft', '-f', rules) : inNs('nft', 'flush', 'ruleset'));
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
