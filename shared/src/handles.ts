import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from 'obscenity';

/**
 * @handle rules, shared by the server (authoritative) and the pages (instant feedback).
 * Shown with `@`, stored without; 3–30 of `a-z A-Z 0-9 _`; unique ignoring case (the database
 * enforces it); no prohibited words, even disguised; no reserved names.
 */
export const HANDLE_PATTERN = /^[A-Za-z0-9_]{3,30}$/;
/** A user may change their handle once per this many days. */
export const HANDLE_CHANGE_INTERVAL_DAYS = 90;

/** Names that would be confused with the product, its staff or its routes. */
export const RESERVED_HANDLES: ReadonlySet<string> = new Set([
  'about', 'admin', 'administrator', 'api', 'app', 'auth', 'help', 'health', 'live', 'login', 'logout',
  'me', 'mod', 'moderator', 'null', 'official', 'podlive', 'podlive_team', 'privacy', 'register', 'root',
  'search', 'security', 'settings', 'signin', 'signup', 'staff', 'static', 'studio', 'support', 'system',
  'terms', 'undefined', 'user', 'users', 'verify', 'watch', 'ws', 'www',
]);

// obscenity's recommended transformers resolve case, look-alike characters and digits used as
// letters (sh1t); underscores between letters (f_u_c_k) are removed before a second look.
const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });

export type HandleProblem = 'invalid' | 'prohibited';

/** Strips one leading `@` (people type it) and surrounding spaces. */
export function normalizeHandle(input: string): string {
  return input.trim().replace(/^@/, '');
}

/** Why a handle can't be used, before asking the database whether it is taken; null if fine. */
export function handleProblem(handle: string): HandleProblem | null {
  if (!HANDLE_PATTERN.test(handle)) return 'invalid';
  const lower = handle.toLowerCase();
  if (RESERVED_HANDLES.has(lower) || RESERVED_HANDLES.has(lower.replace(/_/g, ''))) return 'prohibited';
  if (matcher.hasMatch(handle) || matcher.hasMatch(handle.replace(/_/g, ''))) return 'prohibited';
  return null;
}
