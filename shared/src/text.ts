import { z } from 'zod';
import { HANDLE_PATTERN, normalizeHandle } from './handles';

/**
 * Rules for user-written text shown to others (chat, display names, live titles): one place, so
 * every field hides the same tricks.
 */

/**
 * Characters that change how text looks without being seen: zero-width spaces and non-joiners,
 * word joiners, the BOM, soft hyphens, the Mongolian vowel separator, left-to-right/right-to-left
 * marks, and the bidirectional embeddings, overrides and isolates that reorder what follows (text
 * could otherwise flip the page around it or hide a look-alike name).
 */
const INVISIBLE = /[\u00AD\u061C\u180E\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
/** A zero-width joiner is kept only inside an emoji sequence (👩‍💻): between two pictographs. */
const STRAY_JOINER = /(?<!\p{Extended_Pictographic}\uFE0F?)\u200D|\u200D(?!\p{Extended_Pictographic})/gu;

/**
 * Unicode-normalised (NFC), invisible characters removed, trimmed. Removed rather than refused:
 * pasted text often carries them.
 */
export function removeInvisible(raw: string): string {
  return raw.normalize('NFC').replace(INVISIBLE, '').replace(STRAY_JOINER, '').trim();
}

/** C0 and C1 controls (newlines and tabs included), by their Unicode category. */
export const CONTROL = /\p{Cc}/u;

/**
 * Text rules for what is stored or looked up. PostgreSQL refuses NUL in text (the query fails), so
 * every string that reaches the database goes through one of these: control characters (NUL
 * included) and bidi overrides are a 400 with a field reason, never a failed query.
 */

/** Control characters and bidi overrides: never in one line of text. */
const LINE_FORBIDDEN = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
/** In text of several lines, tabs and line breaks are fine; other control characters are not. */
const MULTILINE_FORBIDDEN = /(?![\t\n\r])[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
export const FORBIDDEN_CHARACTERS_MESSAGE = 'Contains characters that are not allowed';

/**
 * Printable text on one line (titles, search queries): invisible characters removed and trimmed
 * (removeInvisible), then control characters refused, at most `max` characters.
 */
export const lineText = (max: number) =>
  z
    .string()
    .transform(removeInvisible)
    .pipe(z.string().max(max, `Use at most ${max} characters`).refine((s) => !LINE_FORBIDDEN.test(s), FORBIDDEN_CHARACTERS_MESSAGE));

/** Text that may span lines (descriptions): like lineText, with tabs and line breaks allowed. */
export const multilineText = (max: number) =>
  z
    .string()
    .transform(removeInvisible)
    .pipe(z.string().max(max, `Use at most ${max} characters`).refine((s) => !MULTILINE_FORBIDDEN.test(s), FORBIDDEN_CHARACTERS_MESSAGE));

/** A token-like value (an URL, an id of another system): no control characters and no spaces. */
export const opaqueText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/[\p{Cc}\s]/u.test(s), FORBIDDEN_CHARACTERS_MESSAGE);

/** A handle as it appears in a path (`/api/users/:handle`): a leading `@` allowed, else the handle's pattern. */
export const handleParam = z.string().max(64).transform(normalizeHandle).pipe(z.string().regex(HANDLE_PATTERN, 'Not a handle'));
