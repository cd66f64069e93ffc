/**
 * The error registry lives in `@podlive/shared/errors` (one list for every HTTP edge and the web
 * app); re-exported here so the server's many `../errors` imports stay short.
 */
export { ApiError, codeForStatus, errorRegistry, type ApiErrorOptions, type ErrorBody, type ErrorCode, type ErrorFields } from '@podlive/shared/errors';
