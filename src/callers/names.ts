/** Names someone else chose (a credential's, an agent's), made safe to show on a page. */

/** Printable, trimmed, at most `max` characters; else the fallback. */
export function cleanName(raw: string | undefined, fallback: string, max: number): string {
  const cleaned = (raw ?? '')
    .normalize('NFC')
    // Controls, and invisible format characters (bidirectional overrides, zero-width ones) that could reorder what a page says.
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '')
    // Blank letters (Hangul fillers, the blank Braille pattern) are spaces in disguise.
    .replace(/[\u115F\u1160\u3164\uFFA0\u2800]/g, ' ')
    // At most two combining marks on a letter: a stack of them spills over the lines around the name.
    .replace(/(\p{M}{2})\p{M}+/gu, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  // Cut on characters, not UTF-16 units (half a surrogate pair shows as garbage).
  const name = Array.from(cleaned).slice(0, max).join('').trim();
  return name === '' ? fallback : name;
}
