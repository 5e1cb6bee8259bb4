import { BYTE_CLASS, hashStep, TERM_HASH_SEED, TermCounts, TermDictionary } from './termDictionary';

/** Shortest and longest term kept, in characters: single letters carry nothing, very long ones are data. */
const MIN_TERM = 2;
const MAX_TERM = 40;

/** Words too common in prose questions to rank anything ("how does the ... work"). Code keywords are left to IDF. */
// prettier-ignore
export const STOP_WORDS: readonly string[] = [
  'the', 'and', 'or', 'of', 'to', 'in', 'is', 'it', 'for', 'on', 'at', 'by', 'be', 'as', 'an', 'are', 'this', 'that',
  'with', 'from', 'how', 'what', 'where', 'which', 'who', 'why', 'does', 'do', 'can', 'we', 'you', 'me', 'my', 'our',
  'its', 'into', 'about', 'there', 'when', 'all', 'any', 'explain', 'please', 'show', 'tell',
];

/** A dictionary with the stop words registered (so they are recognised without allocating). */
export function newTermDictionary(): TermDictionary {
  return new TermDictionary(STOP_WORDS);
}

function addRange(bytes: Uint8Array, start: number, end: number, dictionary: TermDictionary, counts: TermCounts): void {
  const id = dictionary.idOfBytes(bytes, start, end);
  if (!dictionary.isStopWord(id)) counts.add(id);
}

function classAt(bytes: Uint8Array, index: number): number {
  return BYTE_CLASS[bytes[index] ?? 0] ?? 0;
}

/**
 * Adds the parts of the camelCase, PascalCase or snake_case identifier `bytes[start..end)` (`parseHTTPHeader` -> parse,
 * http, header), skipping a part equal to the whole identifier.
 */
function addParts(bytes: Uint8Array, start: number, end: number, dictionary: TermDictionary, counts: TermCounts): void {
  let partStart = start;
  while (partStart < end && classAt(bytes, partStart) === 4) partStart += 1;
  for (let index = partStart + 1; index <= end; index += 1) {
    let boundary = index === end;
    if (!boundary) {
      const previous = classAt(bytes, index - 1);
      const current = classAt(bytes, index);
      const next = index + 1 < end ? classAt(bytes, index + 1) : 0;
      boundary =
        current === 4 ||
        (previous === 1 && current === 2) ||
        (previous === 2 && current === 2 && next === 1) ||
        (previous !== 3 && current === 3) ||
        (previous === 3 && current !== 3);
    }
    if (!boundary) continue;
    const length = index - partStart;
    if (length >= MIN_TERM && length < end - start) addRange(bytes, partStart, index, dictionary, counts);
    partStart = index;
    while (partStart < end && classAt(bytes, partStart) === 4) partStart += 1;
    if (partStart > index) index = partStart;
  }
}

/**
 * Counts the search terms of the UTF-8 `bytes[start..end)` into `counts`: lowercased identifiers plus their
 * camelCase/snake_case parts, so `getUserName` is found by "user name" too. Numbers, single letters and prose stop words
 * are skipped. Scans bytes and interns terms straight from them: no string is made for a term seen before, and the file
 * is never decoded (a term is ASCII, see `BYTE_CLASS`).
 */
export function countTerms(
  bytes: Uint8Array,
  start: number,
  end: number,
  dictionary: TermDictionary,
  counts: TermCounts,
): void {
  let index = start;
  while (index < end) {
    const first = bytes[index] ?? 0;
    const kind = BYTE_CLASS[first] ?? 0;
    if (kind === 0 || kind === 3) {
      index += 1;
      // Skip the rest of a number (or of a word glued to it, like `0x1f`).
      if (kind === 3) while (index < end && classAt(bytes, index) !== 0) index += 1;
      continue;
    }
    const wordStart = index;
    let split = kind === 4;
    // The term's hash is built while scanning it: the dictionary reads its bytes again only to confirm a match.
    let hash = hashStep(TERM_HASH_SEED, first);
    index += 1;
    while (index < end) {
      const code = bytes[index] ?? 0;
      const inner = BYTE_CLASS[code] ?? 0;
      if (inner === 0) break;
      if (inner === 2 || inner === 4) split = true;
      hash = hashStep(hash, code);
      index += 1;
    }
    const length = index - wordStart;
    if (length < MIN_TERM || length > MAX_TERM) continue;
    const id = dictionary.idOfHashedBytes(bytes, wordStart, index, hash);
    if (!dictionary.isStopWord(id)) counts.add(id);
    // A capital first letter alone (`Token`) has no parts; one later (`getToken`) or an underscore does.
    if (split) addParts(bytes, wordStart, index, dictionary, counts);
  }
}

const encoder = new TextEncoder();

/** The search terms of `text` as a term -> count record (for tests and debugging). */
export function termsOf(text: string): Record<string, number> {
  const dictionary = newTermDictionary();
  const counts = new TermCounts();
  const bytes = encoder.encode(text);
  countTerms(bytes, 0, bytes.length, dictionary, counts);
  const out: Record<string, number> = {};
  counts.forEach((id, count) => {
    out[dictionary.term(id)] = count;
  });
  return out;
}

/** The distinct lowercased terms of a query, in order of appearance. */
export function queryTerms(query: string): string[] {
  const dictionary = newTermDictionary();
  const counts = new TermCounts();
  const bytes = encoder.encode(query);
  countTerms(bytes, 0, bytes.length, dictionary, counts);
  const out: string[] = [];
  counts.forEach((id) => out.push(dictionary.term(id)));
  return out;
}
