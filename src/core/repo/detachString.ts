/**
 * Returns a copy of `text` that does not keep a larger string alive. V8 represents `slice`/`substring`/regex results of
 * 13+ characters as views into their parent, so a term kept as a Map key can pin a whole file's text in memory (that
 * pinned about 55 MB for a 20,000-file repository). Keys and names the index keeps go through here.
 */
export function detachString(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
