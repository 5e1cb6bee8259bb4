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

/** FNV-1a, over the lowercased code units of a term: the hash the dictionary files terms under. */
export const TERM_HASH_SEED = 0x811c9dc5;
/** One FNV-1a step: `hash` extended by `code` lowercased. Callers may hash a term while scanning it. */
export function hashStep(hash: number, code: number): number {
  return Math.imul(hash ^ lowerCode(code), 0x01000193);
}

/** An Int32Array or Uint8Array of at least `length` slots holding `array`'s contents (grown by doubling). */
function grownInt32(array: Int32Array, length: number): Int32Array {
  if (length <= array.length) return array;
  const bigger = new Int32Array(Math.max(length, array.length * 2));
  bigger.set(array);
  return bigger;
}

function grownBytes(array: Uint8Array, length: number): Uint8Array {
  if (length <= array.length) return array;
  const bigger = new Uint8Array(Math.max(length, array.length * 2));
  bigger.set(array);
  return bigger;
}

/**
 * Interns search terms as small integer ids, looked up straight from a range of a file's bytes (lowercased on the fly)
 * through an open-addressing hash table: a term seen before costs no allocation at all. Terms are ASCII (the scanner
 * yields only ASCII identifiers) and are kept as bytes in one buffer, not as strings: comparing a candidate is a loop
 * over two byte arrays, and 50,000 terms cost about 1 MB instead of 50,000 heap strings. On 55 MB of code the
 * string-keyed version spent most of its time allocating and collecting word strings.
 */
export class TermDictionary {
  private slots = new Int32Array(1 << 16).fill(-1);
  /** The lowercased bytes of every term, one after the other; term `id` is `bytes[starts[id] .. starts[id] + lengths[id])`. */
  private bytes: Uint8Array = new Uint8Array(1 << 16);
  private bytesUsed = 0;
  private starts: Int32Array = new Int32Array(1 << 12);
  private lengths: Int32Array = new Int32Array(1 << 12);
  /** The hash of each term (as a signed 32-bit integer). */
  private hashes: Int32Array = new Int32Array(1 << 12);
  private stop: Uint8Array = new Uint8Array(1 << 12);
  private count = 0;

  constructor(stopWords: Iterable<string> = []) {
    for (const word of stopWords) this.stop[this.idOfRange(word, 0, word.length)] = 1;
  }

  /** Distinct terms. */
  size(): number {
    return this.count;
  }

  /** The term with this id ('' for an unknown id). */
  term(id: number): string {
    if (id < 0 || id >= this.count) return '';
    const start = this.starts[id] ?? 0;
    return String.fromCharCode(...this.bytes.subarray(start, start + (this.lengths[id] ?? 0)));
  }

  /** True for prose stop words ("the", "how", ...): never counted. */
  isStopWord(id: number): boolean {
    return this.stop[id] === 1;
  }

  /** The id of `text[start..end)` lowercased (ASCII), adding it when new. */
  idOfRange(text: string, start: number, end: number): number {
    let hash = TERM_HASH_SEED;
    for (let index = start; index < end; index += 1) hash = hashStep(hash, text.charCodeAt(index));
    const found = this.find(
      hash,
      (at, termStart) => this.bytes[termStart + at - start] === lowerCode(text.charCodeAt(at)),
      start,
      end,
    );
    if (found.id >= 0) return found.id;
    return this.insert(hash, found.slot, end - start, (at) => lowerCode(text.charCodeAt(start + at)));
  }

  /** The id of the ASCII term in `bytes[start..end)` lowercased, adding it when new. Same ids as `idOfRange`. */
  idOfBytes(bytes: Uint8Array, start: number, end: number): number {
    let hash = TERM_HASH_SEED;
    for (let index = start; index < end; index += 1) hash = hashStep(hash, bytes[index] ?? 0);
    return this.idOfHashedBytes(bytes, start, end, hash);
  }

  /**
   * `idOfBytes` for a caller that hashed the term while scanning it (`hashStep` over its bytes from `TERM_HASH_SEED`):
   * the term's bytes are then read once more only to confirm a match.
   */
  idOfHashedBytes(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.slots.length - 1;
    const length = end - start;
    let slot = hash & mask;
    for (;;) {
      const id = this.slots[slot] ?? -1;
      if (id < 0) break;
      if (this.hashes[id] === hash && this.lengths[id] === length) {
        const termStart = (this.starts[id] ?? 0) - start;
        let index = start;
        while (index < end && this.bytes[termStart + index] === lowerCode(bytes[index] ?? 0)) index += 1;
        if (index === end) return id;
      }
      slot = (slot + 1) & mask;
    }
    // No closure in this function: a captured variable would make V8 allocate a context on every call (300 MB of
    // garbage over 55 MB of code), not only on the rare insert.
    return this.insertBytes(hash, slot, bytes, start, length);
  }

  private insertBytes(hash: number, slot: number, bytes: Uint8Array, start: number, length: number): number {
    const id = this.reserve(hash, slot, length);
    const termStart = this.starts[id] ?? 0;
    for (let at = 0; at < length; at += 1) this.bytes[termStart + at] = lowerCode(bytes[start + at] ?? 0);
    return id;
  }

  /** The id of a term (any case), or undefined when it was never seen (for queries: they add nothing). */
  lookup(term: string): number | undefined {
    let hash = TERM_HASH_SEED;
    for (let index = 0; index < term.length; index += 1) hash = hashStep(hash, term.charCodeAt(index));
    const found = this.find(
      hash,
      (at, termStart) => this.bytes[termStart + at] === lowerCode(term.charCodeAt(at)),
      0,
      term.length,
    );
    return found.id >= 0 ? found.id : undefined;
  }

  /** The id filed under `hash` whose characters `same(at, termStart)` accepts, or the free slot to file a new one in. */
  private find(
    hash: number,
    same: (at: number, termStart: number) => boolean,
    start: number,
    end: number,
  ): { id: number; slot: number } {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot] ?? -1;
      if (id < 0) return { id: -1, slot };
      if (this.hashes[id] !== hash || this.lengths[id] !== end - start) continue;
      const termStart = this.starts[id] ?? 0;
      let at = start;
      while (at < end && same(at, termStart)) at += 1;
      if (at === end) return { id, slot };
    }
  }

  private insert(hash: number, slot: number, length: number, codeAt: (at: number) => number): number {
    const id = this.reserve(hash, slot, length);
    const termStart = this.starts[id] ?? 0;
    for (let at = 0; at < length; at += 1) this.bytes[termStart + at] = codeAt(at);
    return id;
  }

  /** Files a new term of `length` bytes under `hash` in `slot`; the caller writes its bytes at `starts[id]`. */
  private reserve(hash: number, slot: number, length: number): number {
    const id = this.count;
    this.count += 1;
    this.starts = grownInt32(this.starts, this.count);
    this.lengths = grownInt32(this.lengths, this.count);
    this.hashes = grownInt32(this.hashes, this.count);
    this.stop = grownBytes(this.stop, this.count);
    this.bytes = grownBytes(this.bytes, this.bytesUsed + length);
    this.starts[id] = this.bytesUsed;
    this.lengths[id] = length;
    this.hashes[id] = hash;
    this.bytesUsed += length;
    this.slots[slot] = id;
    // Keep the table at most half full, so probes stay short (growing moves terms to new slots: after the id is filed).
    if (this.count * 2 > this.slots.length) this.grow();
    return id;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id += 1) {
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
  private touched = new Int32Array(1 << 10);
  private touchedCount = 0;
  /** Terms added (with repeats). */
  total = 0;

  /** Counts one occurrence of term `id`. */
  add(id: number): void {
    if (id >= this.counts.length) {
      const bigger = new Int32Array(Math.max(id + 1, this.counts.length * 2));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    const previous = this.counts[id] ?? 0;
    if (previous === 0) {
      if (this.touchedCount === this.touched.length) {
        const bigger = new Int32Array(this.touched.length * 2);
        bigger.set(this.touched);
        this.touched = bigger;
      }
      this.touched[this.touchedCount] = id;
      this.touchedCount += 1;
    }
    this.counts[id] = previous + 1;
    this.total += 1;
  }

  /** Calls `visit(id, count)` for every term counted. */
  forEach(visit: (id: number, count: number) => void): void {
    for (let at = 0; at < this.touchedCount; at += 1) {
      const id = this.touched[at] ?? 0;
      visit(id, this.counts[id] ?? 0);
    }
  }

  /** Distinct terms counted; `idAt(0 .. distinct() - 1)` lists them (a loop without a callback per term). */
  distinct(): number {
    return this.touchedCount;
  }

  /** The `at`-th distinct term counted. */
  idAt(at: number): number {
    return this.touched[at] ?? 0;
  }

  /** How often term `id` was counted. */
  countOf(id: number): number {
    return this.counts[id] ?? 0;
  }

  /** Empties the counts for the next chunk. */
  reset(): void {
    for (let at = 0; at < this.touchedCount; at += 1) this.counts[this.touched[at] ?? 0] = 0;
    this.touchedCount = 0;
    this.total = 0;
  }
}
