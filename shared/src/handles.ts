import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from 'obscenity';
import unhomoglyph from 'unhomoglyph';

/**
 * @handle rules, shared by the server (authoritative) and the pages (instant feedback).
 * Shown with `@`, stored without; 3–30 of `a-z A-Z 0-9 _`; unique ignoring case and look-alike
 * characters (the database enforces it on handleSkeleton); no prohibited words, even disguised; no
 * reserved names and nothing containing the brand, even disguised (`podIive`, `p0dlive`, `adm1n`).
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

/** The product's name: no handle may contain it (or a look-alike of it). */
export const BRAND = 'podlive';

/**
 * Digits and letters read as one another that Unicode's confusables table leaves apart (it maps
 * `0`→`O`, `1`/`I`→`l`, `m`→`rn`, but not case: `i` and `l` only look alike as `I` and `l`).
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = { '0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', i: 'l', '|': 'l' };

/**
 * The look-alike key of a handle: two handles with the same skeleton can be mistaken for each
 * other. UTS #39's skeleton (NFD, then every character to its prototype with unhomoglyph, which
 * carries Unicode's confusables.txt, then NFD), lower-cased and skeletonised again so case doesn't
 * count, then digits and letters that look alike folded together. For the ASCII of a handle
 * this is one character at a time (the migration that backfilled it relies on that).
 */
export function handleSkeleton(handle: string): string {
  const prototype = unhomoglyph(handle.normalize('NFD')).normalize('NFD').toLowerCase();
  return unhomoglyph(prototype).replace(/[0134579i|]/g, (c) => LOOK_ALIKES[c] ?? c);
}

const RESERVED_SKELETONS: ReadonlySet<string> = new Set([...RESERVED_HANDLES].map((name) => handleSkeleton(name.replace(/_/g, ''))));
const BRAND_SKELETON = handleSkeleton(BRAND);

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
  const bare = handleSkeleton(handle.replace(/_/g, ''));
  if (RESERVED_SKELETONS.has(bare) || bare.includes(BRAND_SKELETON)) return 'prohibited';
  if (matcher.hasMatch(handle) || matcher.hasMatch(handle.replace(/_/g, ''))) return 'prohibited';
  return null;
}
