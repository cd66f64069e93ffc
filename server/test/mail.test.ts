import { simpleParser, type ParsedMail } from 'mailparser';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer, OutboxMailer, SmtpMailer } from '../src/mail';
import { captureLogger, tempDir, testConfig } from './helpers';

const message = {
  to: 'ada@example.com',
  subject: 'Your PodLive code: 428 913',
  text: 'Enter 428913 to sign in. It expires in 10 minutes.',
  html: '<p>Enter <b>428913</b> to sign in.</p>',
};

describe('OutboxMailer', () => {
  it('writes a parseable .eml with the subject into the outbox and logs where, never the text', async () => {
    const dir = join(await tempDir(), 'outbox');
    const { logger, lines } = captureLogger();
    const mailer = new OutboxMailer({ dir, from: 'PodLive <no-reply@podlive.test>', logger });
    const { messageId } = await mailer.send(message);
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const raw = await readFile(join(dir, files[0]!));
    expect(raw.toString('utf8')).toMatch(/^Subject: Your PodLive code: 428 913$/m);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(message.subject);
    expect(parsed.from?.value).toEqual([{ name: 'PodLive', address: 'no-reply@podlive.test' }]);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : undefined).toBe('ada@example.com');
    expect(parsed.text?.trim()).toBe(message.text);
    expect(parsed.html).toContain('<b>428913</b>');
    expect(parsed.messageId).toBe(messageId);
    const line = lines.find((l) => l.msg === 'mail written to outbox');
    expect(line).toMatchObject({ subject: message.subject, to: 'ada@example.com', file: join(dir, files[0]!) });
    expect(line).not.toHaveProperty('text');
    await mailer.close();
  });
});

describe('SmtpMailer', () => {
  let server: SMTPServer;
  let port: number;
  const received: Array<{ user: string | undefined; mail: ParsedMail; rcpt: string[] }> = [];
  const waiters: Array<() => void> = [];

  beforeAll(async () => {
    server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === 'hunter2-hunter2') return callback(null, { user: auth.username });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((mail) => {
            received.push({ user: session.user as string | undefined, mail, rcpt: session.envelope.rcptTo.map((r) => r.address) });
            waiters.splice(0).forEach((wake) => wake());
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const mailer = (pass: string) =>
    new SmtpMailer({
      host: '127.0.0.1', port, secure: false, user: 'mailer', pass, from: 'PodLive <no-reply@podlive.test>', logger: captureLogger().logger,
    });

  it('delivers an authenticated message that parses back to what was sent', async () => {
    const delivered = new Promise<void>((resolve) => waiters.push(resolve));
    const smtp = mailer('hunter2-hunter2');
    const { messageId } = await smtp.send(message);
    await delivered;
    await smtp.close();
    expect(received).toHaveLength(1);
    const [{ user, mail, rcpt }] = received as [(typeof received)[number]];
    expect(user).toBe('mailer');
    expect(rcpt).toEqual(['ada@example.com']);
    expect(mail.subject).toBe(message.subject);
    expect(mail.from?.value).toEqual([{ name: 'PodLive', address: 'no-reply@podlive.test' }]);
    expect(mail.text?.trim()).toBe(message.text);
    expect(mail.html).toContain('<b>428913</b>');
    expect(mail.messageId).toBe(messageId);
  });

  it('rejects when the relay refuses the credentials', async () => {
    const smtp = mailer('wrong-password');
    await expect(smtp.send(message)).rejects.toMatchObject({ code: 'EAUTH' });
    await smtp.close();
  });
});

describe('createMailer', () => {
  it('writes to the outbox without SMTP settings and uses SMTP with them', async () => {
    const { logger } = captureLogger();
    expect(createMailer(await testConfig(), logger)).toBeInstanceOf(OutboxMailer);
    expect(createMailer(await testConfig({ SMTP_HOST: '127.0.0.1' }), logger)).toBeInstanceOf(SmtpMailer);
  });
});
