/** Identifiers and words: a letter or underscore, then letters, digits, underscores. */
const WORD = /[A-Za-z_][A-Za-z0-9_]*/g;
/** The parts of a camelCase, PascalCase or snake_case identifier: `parseHTTPHeader` -> parse, http, header. */
const PART = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g;

/** Shortest and longest term kept, in characters: single letters carry nothing, very long ones are data. */
const MIN_TERM = 2;
const MAX_TERM = 40;

/** Words too common in prose questions to rank anything ("how does the ... work"). Code keywords are left to IDF. */
const STOP_WORDS = new Set([
  'the', 'and', 'or', 'of', 'to', 'in', 'is', 'it', 'for', 'on', 'at', 'by', 'be', 'as', 'an', 'are', 'this', 'that',
  'with', 'from', 'how', 'what', 'where', 'which', 'who', 'why', 'does', 'do', 'can', 'we', 'you', 'me', 'my', 'our',
  'its', 'into', 'about', 'there', 'when', 'all', 'any', 'explain', 'please', 'show', 'tell',
]);

/**
 * Adds the search terms of `text` to `counts` (term -> occurrences) and returns how many terms it added. Terms are
 * lowercased identifiers plus their camelCase/snake_case parts, so `getUserName` is found by "user name" too.
 */
export function addTerms(text: string, counts: Map<string, number>): number {
  let added = 0;
  WORD.lastIndex = 0;
  for (let match = WORD.exec(text); match !== null; match = WORD.exec(text)) {
    const word = match[0];
    if (word.length < MIN_TERM || word.length > MAX_TERM) continue;
    const lower = word.toLowerCase();
    if (!STOP_WORDS.has(lower)) {
      counts.set(lower, (counts.get(lower) ?? 0) + 1);
      added += 1;
    }
    // Split only identifiers that have parts: an upper-case letter after the first, or an underscore inside.
    const tail = word.slice(1);
    if (tail !== tail.toLowerCase() || word.includes('_')) {
      PART.lastIndex = 0;
      for (let part = PART.exec(word); part !== null; part = PART.exec(word)) {
        const piece = part[0].toLowerCase();
        if (piece.length < MIN_TERM || piece === lower || STOP_WORDS.has(piece)) continue;
        counts.set(piece, (counts.get(piece) ?? 0) + 1);
        added += 1;
      }
    }
  }
  return added;
}

/** The distinct search terms of a query. */
export function queryTerms(query: string): string[] {
  const counts = new Map<string, number>();
  addTerms(query, counts);
  return [...counts.keys()];
}
