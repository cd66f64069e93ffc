import { parseArgs } from 'node:util';
import { caddyfile, caddyfileProblem, type CaddyfileOptions } from './caddyfile';

/**
 * npm run caddyfile -- --domain live.example.com [--email ops@example.com] [--local-ca]
 *   [--server 127.0.0.1:3000] [--node local=127.0.0.1:4443 ...]
 * Prints the TLS proxy's Caddyfile for this host (see caddyfile.ts), or names what is wrong (exit 2).
 */
function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        domain: { type: 'string' },
        email: { type: 'string' },
        'local-ca': { type: 'boolean', default: false },
        server: { type: 'string', default: '127.0.0.1:3000' },
        node: { type: 'string', multiple: true, default: ['local=127.0.0.1:4443'] },
      },
    }));
  } catch (err) {
    console.error(`caddyfile: ${(err as Error).message}`);
    return 2;
  }
  if (values.domain === undefined) {
    console.error('caddyfile: --domain is required (the name browsers use, e.g. --domain live.example.com)');
    return 2;
  }
  const nodes: Record<string, string> = {};
  for (const spec of values.node) {
    const [id, upstream] = spec.split('=', 2);
    if (!id || !upstream) {
      console.error(`caddyfile: --node must be <id>=<host:port> (got "${spec}")`);
      return 2;
    }
    nodes[id] = upstream;
  }
  const options: CaddyfileOptions = {
    domain: values.domain, server: values.server, nodes, localCa: values['local-ca'],
    ...(values.email === undefined ? {} : { email: values.email }),
  };
  const problem = caddyfileProblem(options);
  if (problem !== null) {
    console.error(`caddyfile: ${problem}`);
    return 2;
  }
  process.stdout.write(caddyfile(options));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
