import type { Logger } from '@podlive/shared/logger';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Mailer, MailMessage, SentMail } from './mailer';

export interface OutboxMailerOptions {
  /** Directory the .eml files go to (DATA_DIR/outbox). */
  dir: string;
  from: string;
  logger: Logger;
}

/**
 * The mailer of a machine without SMTP: each message is built by nodemailer (real MIME), written
 * to `<dir>/<time>-<id>.eml` (mode 0600), where sign-up codes can be read offline. The log line
 * names the file, never the text: codes and links in mails are credentials.
 */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox';
  readonly #dir: string;
  readonly #from: string;
  readonly #logger: Logger;
  readonly #transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(options: OutboxMailerOptions) {
    this.#dir = options.dir;
    this.#logger = options.logger.child({ module: 'OutboxMailer' });
    this.#from = options.from;
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = await this.#transport.sendMail({ from: this.#from, ...message });
    if (!Buffer.isBuffer(info.message)) throw new TypeError('nodemailer did not return a buffered message');
    await mkdir(this.#dir, { recursive: true });
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
    const file = join(this.#dir, name);
    await writeFile(`${file}.tmp`, info.message, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    this.#logger.info({ to: message.to, subject: message.subject, file }, 'mail written to outbox');
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
