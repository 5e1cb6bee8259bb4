/** Shortest and longest term kept, in characters: single letters carry nothing, very long ones are data. */
const MIN_TERM = 2;
const MAX_TERM = 40;

/** Words too common in prose questions to rank anything ("how does the ... work"). Code keywords are left to IDF. */
const STOP_WORDS = new Set([
  'the', 'and', 'or', 'of', 'to', 'in', 'is', 'it', 'for', 'on', 'at', 'by', 'be', 'as', 'an', 'are', 'this', 'that',
  'with', 'from', 'how', 'what', 'where', 'which', 'who', 'why', 'does', 'do', 'can', 'we', 'you', 'me', 'my', 'our',
  'its', 'into', 'about', 'there', 'when', 'all', 'any', 'explain', 'please', 'show', 'tell',
]);

// Character classes by code unit: 1 = lower-case letter, 2 = upper-case letter, 3 = digit, 4 = underscore or `$`.
const CLASS = new Uint8Array(128);
for (let code = 97; code <= 122; code += 1) CLASS[code] = 1;
for (let code = 65; code <= 90; code += 1) CLASS[code] = 2;
for (let code = 48; code <= 57; code += 1) CLASS[code] = 3;
CLASS[95] = 4;

function classOf(code: number): number {
  return code < 128 ? (CLASS[code] ?? 0) : 0;
}

function addOne(term: string, counts: Map<string, number>): boolean {
  if (STOP_WORDS.has(term)) return false;
  counts.set(term, (counts.get(term) ?? 0) + 1);
  return true;
}

/**
 * Adds the parts of a camelCase, PascalCase or snake_case identifier (`parseHTTPHeader` -> parse, http, header) to
 * `counts`, skipping the part equal to the whole word; returns how many it added.
 */
function addParts(word: string, lower: string, counts: Map<string, number>): number {
  let added = 0;
  let start = 0;
  const length = word.length;
  for (let index = 1; index <= length; index += 1) {
    let boundary = index === length;
    if (!boundary) {
      const previous = classOf(word.charCodeAt(index - 1));
      const current = classOf(word.charCodeAt(index));
      const next = index + 1 < length ? classOf(word.charCodeAt(index + 1)) : 0;
      boundary =
        current === 4 ||
        previous === 4 ||
        (previous === 1 && current === 2) ||
        (previous === 2 && current === 2 && next === 1) ||
        (previous !== 3 && current === 3) ||
        (previous === 3 && current !== 3);
    }
    if (boundary) {
      const partLength = index - start;
      if (partLength >= MIN_TERM && partLength < length) {
        const part = lower.slice(start, index);
        if (classOf(part.charCodeAt(0)) !== 4 && addOne(part, counts)) added += 1;
      }
      start = index;
      while (start < length && classOf(word.charCodeAt(start)) === 4) start += 1;
      if (start > index) index = start;
    }
  }
  return added;
}

/**
 * Adds the search terms of `text` to `counts` (term -> occurrences) and returns how many terms it added. Terms are
 * lowercased identifiers plus their camelCase/snake_case parts, so `getUserName` is found by "user name" too.
 * A hand-written scanner: about twice as fast as a global regular expression on 50 MB of code.
 */
export function addTerms(text: string, counts: Map<string, number>): number {
  let added = 0;
  const length = text.length;
  let index = 0;
  while (index < length) {
    const code = text.charCodeAt(index);
    const kind = classOf(code);
    if (kind === 0 || kind === 3) {
      index += 1;
      // Skip the rest of a number or a non-identifier run quickly.
      if (kind === 3) while (index < length && classOf(text.charCodeAt(index)) !== 0) index += 1;
      continue;
    }
    const start = index;
    let hasInnerUpper = false;
    let hasUnderscore = kind === 4;
    index += 1;
    while (index < length) {
      const inner = classOf(text.charCodeAt(index));
      if (inner === 0) break;
      if (inner === 2) hasInnerUpper = true;
      else if (inner === 4) hasUnderscore = true;
      index += 1;
    }
    const wordLength = index - start;
    if (wordLength < MIN_TERM || wordLength > MAX_TERM) continue;
    const word = text.slice(start, index);
    const lower = kind === 2 || hasInnerUpper ? word.toLowerCase() : word;
    if (addOne(lower, counts)) added += 1;
    if (hasInnerUpper || hasUnderscore) added += addParts(word, lower, counts);
  }
  return added;
}

/** The distinct search terms of a query. */
export function queryTerms(query: string): string[] {
  const counts = new Map<string, number>();
  addTerms(query, counts);
  return [...counts.keys()];
}
