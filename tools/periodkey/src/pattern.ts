/**
 * True when a SCAN MATCH glob matches every key: it has no literal character and no character class, only
 * `*` (at least one) and `?`. `*`, `**` and `*?*` match the whole keyspace; `\*` (a literal star),
 * `???` (keys of three characters) and `[a-z]*` do not.
 */
export function matchesEverything(pattern: string): boolean {
  return /^[*?]*\*[*?]*$/.test(pattern);
}
