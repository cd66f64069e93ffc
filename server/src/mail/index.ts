import type { Logger } from '@podlive/shared/logger';
import type { Config } from '../config';
import type { Mailer } from './mailer';
import { OutboxMailer } from './outbox-mailer';
import { SmtpMailer } from './smtp-mailer';

export type { Mailer, MailMessage, SentMail } from './mailer';
export { OutboxMailer, type OutboxMailerOptions } from './outbox-mailer';
export { SmtpMailer, type SmtpMailerOptions } from './smtp-mailer';

/** SmtpMailer when SMTP_HOST is set, OutboxMailer into DATA_DIR/outbox otherwise. */
export function createMailer(config: Pick<Config, 'mail'>, logger: Logger): Mailer {
  const { mail } = config;
  return mail.kind === 'smtp' ? new SmtpMailer({ ...mail, logger }) : new OutboxMailer({ dir: mail.dir, from: mail.from, logger });
}
