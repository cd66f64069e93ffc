import { types } from 'mediasoup';
import { mediaErrorCodes } from '@podlive/shared/protocol';

type Code = keyof typeof mediaErrorCodes;

/** A request refused for a reason the client can act on; carries the protoo reject code. */
export class MediaRequestError extends Error {
  override name = 'MediaRequestError';
  constructor(readonly code: Code, message: string) {
    super(message);
  }
  get status(): number {
    return mediaErrorCodes[this.code];
  }
  static badRequest = (message: string) => new MediaRequestError('badRequest', message);
  static forbidden = (message: string) => new MediaRequestError('forbidden', message);
  static notFound = (what: string, id: string) => new MediaRequestError('notFound', `${what} ${id} not found`);
  static tooMany = (message: string) => new MediaRequestError('tooMany', message);
  static conflict = (message: string) => new MediaRequestError('conflict', message);
  static unavailable = (message: string) => new MediaRequestError('unavailable', message);
}

/** Maps any error thrown while handling a request to a protoo reject code and reason. */
export function toReject(err: unknown): { status: number; reason: string; internal: boolean } {
  if (err instanceof MediaRequestError) return { status: err.status, reason: err.message, internal: false };
  // mediasoup throws TypeError for arguments it refuses (bad RTP parameters, unsupported codecs...).
  if (err instanceof TypeError) return { status: mediaErrorCodes.badRequest, reason: err.message, internal: false };
  // A call on something that closed meanwhile (the peer's own transport or consumer): a race, not a fault.
  if (err instanceof types.InvalidStateError) return { status: mediaErrorCodes.conflict, reason: err.message, internal: false };
  return { status: mediaErrorCodes.internal, reason: 'internal error', internal: true };
}
