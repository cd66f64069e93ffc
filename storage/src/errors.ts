/** What went wrong, for callers that map storage failures onto their own errors (the server's HTTP codes). */
export type StorageErrorCode =
  /** A key or prefix breaks the key rules (key.ts): refused before any backend is asked. */
  | 'KEY_INVALID'
  /** The backend refused part of a multi-object delete; the call may be retried. */
  | 'DELETE_INCOMPLETE';

/**
 * The one error class of this package. `fields` names the argument at fault (`key`, `prefix`) with
 * a reason safe to show a client. Made by the static factories below, never from message text.
 */
export class StorageError extends Error {
  override name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly fields: Readonly<Record<string, string>>;

  private constructor(code: StorageErrorCode, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.fields = Object.freeze(fields);
  }

  static invalidKey(field: 'key' | 'prefix', reason: string): StorageError {
    return new StorageError('KEY_INVALID', `Invalid storage ${field}: ${reason}`, { [field]: reason });
  }

  static deleteIncomplete(message: string): StorageError {
    return new StorageError('DELETE_INCOMPLETE', message);
  }
}
