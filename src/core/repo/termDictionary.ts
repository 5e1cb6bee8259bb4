import { detachString } from './detachString';

/**
 * Character classes by byte: 1 = lower-case letter, 2 = upper-case letter, 3 = digit, 4 = underscore, 0 = anything else.
 * Terms are ASCII identifiers, and every byte of a multi-byte UTF-8 sequence is >= 128 (class 0), so scanning UTF-8
 * bytes finds exactly the terms that scanning the decoded text would: the index never decodes a file to count terms.
 */
export const BYTE_CLASS = new Uint8Array(256);
for (let code = 97; code <= 122; code += 1) BYTE_CLASS[code] = 1;
for (let code = 65; code <= 90; code += 1) BYTE_CLASS[code] = 2;
for (let code = 48; code <= 57; code += 1) BYTE_CLASS[code] = 3;
BYTE_CLASS[95] = 4;

function lowerCode(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

/**
 * Interns search terms as small integer ids, looked up straight from a range of the source text (lowercased on the
 * fly) through an open-addressing hash table: a term seen before costs no string allocation at all. On 55 MB of code
 * the string-keyed version spent most of its time allocating and collecting word strings.
 */
export class TermDictionary {
  private slots = new Int32Array(1 << 16).fill(-1);
  private readonly terms: string[] = [];
  private readonly hashes: number[] = [];
  private readonly stop: boolean[] = [];

  constructor(stopWords: Iterable<string> = []) {
    for (const word of stopWords) {
      const id = this.idOfRange(word, 0, word.length);
      this.stop[id] = true;
    }
  }

  /** Distinct terms. */
  size(): number {
    return this.terms.length;
  }

  /** The term with this id. */
  term(id: number): string {
    return this.terms[id] ?? '';
  }

  /** True for prose stop words ("the", "how", ...): never counted. */
  isStopWord(id: number): boolean {
    return this.stop[id] === true;
  }

  private static hashRange(text: string, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let index = start; index < end; index += 1) {
      hash ^= lowerCode(text.charCodeAt(index));
      hash = Math.imul(hash, 0x01000193);
    }
    return hash >>> 0;
  }

  private static hashBytes(bytes: Uint8Array, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let index = start; index < end; index += 1) {
      hash ^= lowerCode(bytes[index] ?? 0);
      hash = Math.imul(hash, 0x01000193);
    }
    return hash >>> 0;
  }

  private matchesBytes(id: number, bytes: Uint8Array, start: number, end: number): boolean {
    const term = this.terms[id] ?? '';
    if (term.length !== end - start) return false;
    for (let index = start; index < end; index += 1) {
      if (term.charCodeAt(index - start) !== lowerCode(bytes[index] ?? 0)) return false;
    }
    return true;
  }

  /**
   * The id of the ASCII term in `bytes[start..end)` lowercased, adding it when new. Hashes as `idOfRange` does, so a
   * term has one id whether it was met in a file's bytes or in a query's text.
   */
  idOfBytes(bytes: Uint8Array, start: number, end: number): number {
    const hash = TermDictionary.hashBytes(bytes, start, end);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const id = this.slots[slot] ?? -1;
      if (id < 0) break;
      if (this.hashes[id] === hash && this.matchesBytes(id, bytes, start, end)) return id;
      slot = (slot + 1) & mask;
    }
    // A fresh flat string of the term alone (it pins no buffer).
    return this.insert(String.fromCharCode(...bytes.subarray(start, end)).toLowerCase(), hash, slot);
  }

  private insert(term: string, hash: number, slot: number): number {
    const id = this.terms.length;
    this.terms.push(term);
    this.hashes[id] = hash;
    this.slots[slot] = id;
    // Keep the table at most half full, so probes stay short.
    if (this.terms.length * 2 > this.slots.length) this.grow();
    return id;
  }

  private matches(id: number, text: string, start: number, end: number): boolean {
    const term = this.terms[id] ?? '';
    if (term.length !== end - start) return false;
    for (let index = start; index < end; index += 1) {
      if (term.charCodeAt(index - start) !== lowerCode(text.charCodeAt(index))) return false;
    }
    return true;
  }

  /** The id of `text[start..end)` lowercased, adding it when new. */
  idOfRange(text: string, start: number, end: number): number {
    const hash = TermDictionary.hashRange(text, start, end);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const id = this.slots[slot] ?? -1;
      if (id < 0) break;
      if (this.hashes[id] === hash && this.matches(id, text, start, end)) return id;
      slot = (slot + 1) & mask;
    }
    return this.insert(detachString(text.slice(start, end).toLowerCase()), hash, slot);
  }

  /** The id of a lowercased term, or undefined when it was never seen (for queries: they add nothing). */
  lookup(term: string): number | undefined {
    const hash = TermDictionary.hashRange(term, 0, term.length);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot] ?? -1;
      if (id < 0) return undefined;
      if (this.hashes[id] === hash && this.matches(id, term, 0, term.length)) return id;
    }
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.terms.length; id += 1) {
      let slot = (this.hashes[id] ?? 0) & mask;
      while ((slots[slot] ?? -1) >= 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}

/** Term counts of one chunk, by term id: a dense array plus the list of ids touched, reset in O(touched). */
export class TermCounts {
  private counts = new Int32Array(1 << 12);
  private readonly touched: number[] = [];
  /** Terms added (with repeats). */
  total = 0;

  /** Counts one occurrence of term `id`. */
  add(id: number): void {
    if (id >= this.counts.length) {
      const bigger = new Int32Array(Math.max(id + 1, this.counts.length * 2));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    if (this.counts[id] === 0) this.touched.push(id);
    this.counts[id] = (this.counts[id] ?? 0) + 1;
    this.total += 1;
  }

  /** Calls `visit(id, count)` for every term counted. */
  forEach(visit: (id: number, count: number) => void): void {
    for (const id of this.touched) visit(id, this.counts[id] ?? 0);
  }

  /** Distinct terms counted. */
  distinct(): number {
    return this.touched.length;
  }

  /** Empties the counts for the next chunk. */
  reset(): void {
    for (const id of this.touched) this.counts[id] = 0;
    this.touched.length = 0;
    this.total = 0;
  }
}
