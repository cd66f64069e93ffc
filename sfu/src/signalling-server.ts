import type { Server } from 'node:http';
import protoo from 'protoo-server';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { MEDIA_MAX_MESSAGE_BYTES, mediaErrorCodes } from '@podlive/shared/protocol';
import type { MediaRole } from '@podlive/shared/tokens';
import { moduleLogger } from './Logger';

const logger = moduleLogger('signalling');

/** One upgrade request as the node's metrics see it: the role its token names, once read. */
export interface ConnectAttempt {
  role?: MediaRole;
}

/** Handles one upgrade request: accepts it into a room or rejects it with an HTTP status (naming the role on `attempt` once known). */
export type Connect = (requestUrl: string, accept: () => protoo.WebSocketTransport, reject: (code: number, reason: string) => void, attempt: ConnectAttempt) => Promise<void>;

export interface SignallingOptions {
  /** New connections accepted per remote address per minute; 0: no limit (the internal listener). */
  connectsPerMinute: number;
  /** Told of every upgrade request's end: accepted, or refused with a status (rate limit included). */
  outcome?: (attempt: ConnectAttempt, refusedWith?: number) => void;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Who is connecting: the socket's address, or, when the socket comes from this host (the TLS proxy
 * in front of the node, deploy/host), the last address of X-Forwarded-For, the one the proxy saw.
 * Nobody else is trusted to name an address.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string {
  const address = socketAddress ?? 'unknown';
  if (!LOOPBACK.test(address) || forwardedFor === undefined) return address;
  const list = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((s) => s.trim()).filter(Boolean);
  return list.at(-1) ?? address;
}

/**
 * protoo signalling on `server`: messages and frames up to MEDIA_MAX_MESSAGE_BYTES (larger ones
 * close that connection), and at most `connectsPerMinute` upgrade requests per client address
 * (429 beyond, before the token is even checked).
 */
export function serveSignalling(server: Server, connect: Connect, options: SignallingOptions): protoo.WebSocketServer {
  const limiter = options.connectsPerMinute > 0 ? new RateLimiterMemory({ points: options.connectsPerMinute, duration: 60 }) : undefined;
  const wss = new protoo.WebSocketServer(server, { maxReceivedFrameSize: MEDIA_MAX_MESSAGE_BYTES, maxReceivedMessageSize: MEDIA_MAX_MESSAGE_BYTES });
  wss.on('connectionrequest', (info, acceptRequest, rejectRequest) => {
    const attempt: ConnectAttempt = {};
    let told = false;
    const tell = (refusedWith?: number) => {
      if (!told) options.outcome?.(attempt, refusedWith);
      told = true;
    };
    const accept = () => {
      tell();
      return acceptRequest();
    };
    const reject = (code: number, reason: string) => {
      tell(code);
      rejectRequest(code, reason);
    };
    const address = clientAddress(info.socket.remoteAddress, info.request.headers['x-forwarded-for']);
    const admit = async () => {
      if (limiter) {
        try {
          await limiter.consume(address);
        } catch (err) {
          if (err instanceof RateLimiterRes) return reject(mediaErrorCodes.tooMany, 'too many connections from this address; try again in a minute');
          throw err;
        }
      }
      await connect(info.request.url ?? '', accept, reject, attempt);
    };
    admit().catch((err: unknown) => {
      logger.error({ err, address }, 'connection failed');
      reject(mediaErrorCodes.internal, 'internal error');
    });
  });
  return wss;
}
