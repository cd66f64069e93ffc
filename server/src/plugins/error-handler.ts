import { StorageError } from '@podlive/storage';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ZodError } from 'zod';
import { ApiError, codeForStatus, type ErrorFields } from '../errors';

type SchemaIssue = NonNullable<FastifyError['validation']>[number];

function fieldsFromSchemaValidation(issues: SchemaIssue[], context: string | undefined): ErrorFields {
  const fields: ErrorFields = {};
  for (const issue of issues) {
    const missing = issue.params?.missingProperty;
    const path = [context, ...issue.instancePath.split('/').filter(Boolean), ...(typeof missing === 'string' ? [missing] : [])];
    const name = path.filter(Boolean).join('.') || '(request)';
    fields[name] ??= issue.message ?? 'is invalid';
  }
  return fields;
}

function fieldsFromZod(error: ZodError): ErrorFields {
  const fields: ErrorFields = {};
  for (const issue of error.issues) fields[issue.path.map(String).join('.') || '(request)'] ??= issue.message;
  return fields;
}

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : undefined;
};

/**
 * Turns anything thrown into the client-facing ApiError. Status is chosen by class or code,
 * never by message text; messages of unknown errors never reach the client.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as Partial<FastifyError> | null;
  if (Array.isArray(fastifyError?.validation)) {
    return new ApiError('VALIDATION_FAILED', {
      fields: fieldsFromSchemaValidation(fastifyError.validation, fastifyError.validationContext),
      cause: error,
    });
  }
  if (error instanceof ZodError) return new ApiError('VALIDATION_FAILED', { fields: fieldsFromZod(error), cause: error });
  // A key built from request input that breaks the storage key rules; other storage failures are ours (500).
  if (error instanceof StorageError && error.code === 'KEY_INVALID') return new ApiError('STORAGE_KEY_INVALID', { fields: { ...error.fields }, cause: error });
  const status = statusOf(error);
  if (status === undefined) return new ApiError('INTERNAL', { cause: error });
  const code = codeForStatus(status);
  // Fastify's own client errors (FST_ERR_CTP_INVALID_JSON, ...) carry messages written for clients.
  const ownClientError = status < 500 && typeof fastifyError?.code === 'string' && fastifyError.code.startsWith('FST_');
  return new ApiError(code, ownClientError ? { message: String(fastifyError?.message), cause: error } : { cause: error });
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError) {
  // A 5xx made on purpose, with no error behind it ("no media node has room now"), is an answer
  // under load, not a fault: one warn line, no stack per request. A fault is logged with its cause.
  if (error.statusCode >= 500 && error.cause === undefined) request.log.warn({ code: error.code, status: error.statusCode }, error.message);
  else if (error.statusCode >= 500) request.log.error({ err: error.cause, code: error.code }, 'request failed');
  else request.log.info({ code: error.code, status: error.statusCode }, error.message);
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(error.toBody());
}

/** The error handler and the not-found handler, both answering `{ error: { code, message, fields? } }`. */
async function errorHandlerPlugin(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply) => sendError(request, reply, toApiError(error)));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new ApiError('NOT_FOUND', { message: `No route for ${request.method} ${request.url.split('?')[0]}` })),
  );
}

export default fp(errorHandlerPlugin, { name: 'error-handler', fastify: '5.x' });
