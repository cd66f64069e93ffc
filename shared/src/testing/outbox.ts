import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The newest emailed code to `to` in a mail outbox directory (DATA_DIR/outbox: the embedded
 * mailer writes one .eml file per mail, names sorting by time). For tests and benches that sign
 * users up through the API, as a person reads the code in their mail.
 */
export async function latestCode(outbox: string, to: string): Promise<string> {
  const names = (await readdir(outbox).catch(() => [] as string[])).filter((name) => name.endsWith('.eml')).sort().reverse();
  for (const name of names) {
    const mail = await readFile(join(outbox, name), 'utf8');
    if (!new RegExp(`^To: .*${to.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'mi').test(mail)) continue;
    // The text part has the code alone on an indented line.
    const code = /^[ \t]+(\d{6})[ \t]*\r?$/m.exec(mail)?.[1];
    if (code !== undefined) return code;
  }
  throw new Error(`no mail with a code for ${to} in ${outbox}`);
}
