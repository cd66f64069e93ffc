/** One e-mail. `html` is optional; `text` is always sent. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface SentMail {
  messageId: string;
}

/** Sends mail: through SMTP in production, into DATA_DIR/outbox offline. */
export interface Mailer {
  readonly kind: 'outbox' | 'smtp';
  send(message: MailMessage): Promise<SentMail>;
  /** Closes connections; calling it twice does nothing. */
  close(): Promise<void>;
}
