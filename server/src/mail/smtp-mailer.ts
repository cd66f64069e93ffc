import type { Logger } from '@podlive/shared/logger';
import nodemailer from 'nodemailer';
import type { Config } from '../config';
import type { Mailer, MailMessage, SentMail } from './mailer';

export type SmtpMailerOptions = Omit<Extract<Config['mail'], { kind: 'smtp' }>, 'kind'> & { logger: Logger };

/** Sends through an SMTP relay (implicit TLS on 465, STARTTLS when offered elsewhere). */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  readonly #logger: Logger;
  readonly #transport;
  #closed = false;

  constructor(options: SmtpMailerOptions) {
    this.#logger = options.logger.child({ module: 'SmtpMailer' });
    this.#transport = nodemailer.createTransport(
      {
        host: options.host,
        port: options.port,
        secure: options.secure,
        ...(options.user !== undefined ? { auth: { user: options.user, pass: options.pass ?? '' } } : {}),
      },
      { from: options.from },
    );
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = await this.#transport.sendMail(message);
    this.#logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
  }
}
