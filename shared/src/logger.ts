import { type DestinationStream, pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Query parameters that are credentials: signatures of signed URLs, tokens, one-time codes. */
const SECRET_PARAMS = /^(sig|signature|token|code|x-amz-signature|x-amz-credential|x-amz-security-token)$/i;

/** `url` with the values of its secret query parameters replaced by `[redacted]` (path and other parameters kept). */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed name is kept as it came
      }
      return eq >= 0 && SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
  socket?: { remotePort?: number };
}

/**
 * Every process's log redaction: request URLs lose the values of secret query parameters (signed
 * storage links, media tokens, codes), and credential fields (Authorization, cookies, passwords,
 * tokens) are censored wherever a log call names them.
 */
const redaction: Pick<LoggerOptions, 'serializers' | 'redact'> = {
  serializers: {
    // Fastify's own request serializer, with the URL redacted.
    req: (req: LoggedRequest) => ({
      method: req.method,
      url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
      version: req.headers?.['accept-version'],
      host: req.host,
      remoteAddress: req.ip,
      remotePort: req.socket?.remotePort,
    }),
  },
  redact: {
    paths: [
      'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
      'password', 'newPassword', 'accessToken', 'refreshToken', 'token', 'otp',
      '*.password', '*.newPassword', '*.accessToken', '*.refreshToken', '*.token', '*.otp',
    ],
    censor: '[redacted]',
  },
};

/**
 * One structured (JSON) logger per process, and a child per module:
 * `createLogger('sfu').child({ module: 'Room' })`. Level from LOG_LEVEL (default `info`,
 * `silent` under tests unless LOG_LEVEL is set). Secrets are redacted (see `redaction`).
 */
export function createLogger(service: string, options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  const merged: LoggerOptions = { name: service, level, ...redaction, ...options, serializers: { ...redaction.serializers, ...options.serializers } };
  return destination === undefined ? pino(merged) : pino(merged, destination);
}
