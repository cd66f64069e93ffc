import { fail } from '@sveltejs/kit';
import { ApiFailure } from './api';

/** What a failed form action hands back to its page. */
export interface FormProblem {
  message?: string;
  fields?: Record<string, string>;
  /** What the user typed (never passwords), to refill the form. */
  values?: Record<string, string>;
}

/** A text field of a submitted form ('' when absent or a file). */
export function text(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

/** The first message per field of a zod failure. */
export function zodFields(error: { issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }> }): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? 'form');
    fields[key] ??= issue.message;
  }
  return fields;
}

export function invalid(fields: Record<string, string>, values: Record<string, string> = {}) {
  return fail(400, { message: 'Please fix the highlighted fields', fields, values } satisfies FormProblem);
}

/** Turns an API refusal into the form's failure; anything else is a bug and rethrown. */
export function refused(err: unknown, values: Record<string, string> = {}) {
  if (!(err instanceof ApiFailure)) throw err;
  const status = err.status >= 400 && err.status < 600 ? err.status : 502;
  return fail(status, { message: err.message, fields: err.fields, values } satisfies FormProblem);
}

/**
 * A path of this site (`site`, an origin) to go back to after signing in; anything else becomes
 * `fallback`. The target is resolved with the URL API, as a browser would resolve the Location
 * header (tabs and newlines dropped, backslashes read as slashes), and kept only when it stays on
 * `site`; what comes back is the parsed path, so it is always a valid header value.
 */
export function safeRedirect(target: string | null, site: string, fallback = '/'): string {
  if (target === null || !target.startsWith('/')) return fallback;
  let url: URL;
  try {
    url = new URL(target, site);
  } catch {
    return fallback;
  }
  return url.origin === new URL(site).origin ? `${url.pathname}${url.search}${url.hash}` : fallback;
}
