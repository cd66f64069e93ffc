/** Search engines show about this many characters of a description; longer ones are cut here, at a word. */
const DESCRIPTION_MAX = 160;

/**
 * A page's `<meta name="description">` text from parts (a title, a name, a bio...): empty parts
 * dropped, whitespace (line breaks of a bio) collapsed, cut at a word boundary with an ellipsis
 * past DESCRIPTION_MAX. Plain text: Svelte escapes it into the attribute.
 */
export function describe(...parts: (string | null | undefined | false)[]): string {
  const text = parts
    .filter((part): part is string => typeof part === 'string' && part.trim() !== '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  if ([...text].length <= DESCRIPTION_MAX) return text;
  const cut = [...text].slice(0, DESCRIPTION_MAX - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > DESCRIPTION_MAX / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:·–-]+$/u, '')}…`;
}
