import type { z } from 'zod';
import { ApiError, type ErrorFields } from './errors';

/**
 * Parses `value` with a shared zod schema, or throws ApiError VALIDATION_FAILED whose fields name
 * each bad path (`handle`, `q`; `(request)` for the whole value) with the schema's message.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const fields: ErrorFields = {};
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.') || '(request)';
    fields[path] ??= issue.code === 'unrecognized_keys' ? `Unknown field(s): ${issue.keys.join(', ')}` : issue.message;
  }
  throw new ApiError('VALIDATION_FAILED', { fields });
}
