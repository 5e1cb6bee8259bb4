import type { TermCounts } from './termDictionary';

/** BM25 term-frequency saturation. 1.2 is the usual value for short documents such as code chunks. */
const K1 = 1.2;
/** BM25 length normalisation: 0.75, the usual value; long chunks are not rewarded for repeating words. */
const B = 0.75;
/**
 * Term frequencies are stored capped at 255 inside one packed Int32 per posting (`chunkId * 256 + tf`): BM25 saturates
 * long before 255 repeats, and it leaves room for 8 million chunk ids (ids are not reused; a session would need millions
 * of file updates to run out).
 */
const TF_SLOTS = 256;

/** A scored chunk. */
export interface ScoredChunk {
  readonly chunkId: number;
  readonly score: number;
}

/** Postings per page of the pool: 1 Mi Int32 slots (4 MB), allocated once each and never copied. */
const PAGE_BITS = 20;
const PAGE_SLOTS = 1 << PAGE_BITS;
/** Sizes of a term's posting blocks, in postings: the first holds 2, each next one twice as many, up to 1,024. */
const FIRST_BLOCK = 2;
const LARGEST_BLOCK = 1_024;

/** An Int32Array of at least `length` slots holding `array`'s contents (grown by doubling; new slots filled). */
function grown(array: Int32Array, length: number, fill: number): Int32Array {
  if (length <= array.length) return array;
  const bigger = new Int32Array(Math.max(length, array.length * 2)).fill(fill);
  bigger.set(array);
  return bigger;
}

/**
 * Postings of every term in one pool of fixed-size pages: each term owns a chain of blocks (`[next, posting...]`)
 * that double in size as it grows. No object per term, no typed array per term, and no copy when a list grows: the
 * per-term typed arrays they replace cost about 200 bytes each in headers and left doubled-away buffers to collect.
 */
class PostingPool {
  private readonly pages: Int32Array[] = [];
  /** Next free slot in the last page. */
  private pageTop = PAGE_SLOTS;
  /** Per term id: first block's slot (-1: none), last block's slot, that block's size, postings in it, postings in all. */
  private heads: Int32Array = new Int32Array(1_024).fill(-1);
  private tails: Int32Array = new Int32Array(1_024);
  private tailSizes: Int32Array = new Int32Array(1_024);
  private tailUsed: Int32Array = new Int32Array(1_024);
  private counts: Int32Array = new Int32Array(1_024);
  /** Postings held (live or not). */
  total = 0;

  /** A block of `size` postings plus its link slot; returns its first slot (a global index over the pages). */
  private allocate(size: number): number {
    if (this.pageTop + size + 1 > PAGE_SLOTS) {
      this.pages.push(new Int32Array(PAGE_SLOTS));
      this.pageTop = 0;
    }
    const slot = (this.pages.length - 1) * PAGE_SLOTS + this.pageTop;
    this.pageTop += size + 1;
    this.write(slot, -1);
    return slot;
  }

  private write(slot: number, value: number): void {
    const page = this.pages[slot >>> PAGE_BITS];
    if (page !== undefined) page[slot & (PAGE_SLOTS - 1)] = value;
  }

  private read(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]?.[slot & (PAGE_SLOTS - 1)] ?? -1;
  }

  /** Appends one posting to a term's list. */
  append(term: number, posting: number): void {
    if (term >= this.heads.length) {
      const length = term + 1;
      this.heads = grown(this.heads, length, -1);
      this.tails = grown(this.tails, length, 0);
      this.tailSizes = grown(this.tailSizes, length, 0);
      this.tailUsed = grown(this.tailUsed, length, 0);
      this.counts = grown(this.counts, length, 0);
    }
    let tail = this.tails[term] ?? 0;
    let used = this.tailUsed[term] ?? 0;
    const size = this.tailSizes[term] ?? 0;
    if ((this.heads[term] ?? -1) < 0) {
      tail = this.allocate(FIRST_BLOCK);
      this.heads[term] = tail;
      this.tailSizes[term] = FIRST_BLOCK;
      used = 0;
    } else if (used === size) {
      const nextSize = Math.min(size * 2, LARGEST_BLOCK);
      const next = this.allocate(nextSize);
      this.write(tail, next);
      tail = next;
      this.tailSizes[term] = nextSize;
      used = 0;
    }
    this.tails[term] = tail;
    this.write(tail + 1 + used, posting);
    this.tailUsed[term] = used + 1;
    this.counts[term] = (this.counts[term] ?? 0) + 1;
    this.total += 1;
  }

  /** Calls `visit(posting)` for each posting of a term, in the order they were appended. */
  forEach(term: number, visit: (posting: number) => void): void {
    let remaining = this.counts[term] ?? 0;
    let block = this.heads[term] ?? -1;
    let size = FIRST_BLOCK;
    while (remaining > 0 && block >= 0) {
      const inBlock = Math.min(size, remaining);
      for (let at = 0; at < inBlock; at += 1) visit(this.read(block + 1 + at));
      remaining -= inBlock;
      block = this.read(block);
      size = Math.min(size * 2, LARGEST_BLOCK);
    }
  }

  /** Term ids that have postings (below this bound). */
  termBound(): number {
    return this.heads.length;
  }
}

/**
 * An inverted index with BM25 scoring over chunks. Postings are packed as one small integer each
 * (`chunkId * 256 + tf`) in a paged pool, so 20,000 files cost about 10 MB. Removing a chunk marks it dead (O(1)); dead
 * postings are skipped at query time and compacted away once they outnumber the live ones, so an update never rebuilds
 * the index.
 */
export class Bm25Index {
  private postings = new PostingPool();
  /** Terms per chunk, or -1 for a removed chunk. */
  private readonly lengths: number[] = [];
  private liveChunks = 0;
  private deadChunks = 0;
  private totalLength = 0;

  /** Adds a chunk with its term counts (by term id); returns its id. */
  addChunk(counts: TermCounts): number {
    const chunkId = this.lengths.length;
    this.lengths.push(counts.total);
    this.liveChunks += 1;
    this.totalLength += counts.total;
    const distinct = counts.distinct();
    for (let at = 0; at < distinct; at += 1) {
      const termId = counts.idAt(at);
      this.postings.append(termId, chunkId * TF_SLOTS + Math.min(counts.countOf(termId), TF_SLOTS - 1));
    }
    return chunkId;
  }

  /** Removes a chunk (its postings die; compaction reclaims them later). */
  removeChunk(chunkId: number): void {
    const length = this.lengths[chunkId];
    if (length === undefined || length < 0) return;
    this.lengths[chunkId] = -1;
    this.liveChunks -= 1;
    this.deadChunks += 1;
    this.totalLength -= length;
  }

  /** Live chunks. */
  size(): number {
    return this.liveChunks;
  }

  /** Postings held (live or not yet compacted), for the benchmark's memory figures. */
  postingCount(): number {
    return this.postings.total;
  }

  private isLive(posting: number): boolean {
    return (this.lengths[Math.floor(posting / TF_SLOTS)] ?? -1) >= 0;
  }

  /** The best `limit` chunks for the query's term ids, best first. */
  search(terms: readonly number[], limit: number): ScoredChunk[] {
    if (this.deadChunks > this.liveChunks && this.deadChunks > 1_000) this.compact();
    if (this.liveChunks === 0 || terms.length === 0) return [];
    const averageLength = this.totalLength / this.liveChunks || 1;
    // Scores in a typed array by chunk id, and the ids scored in a list: a Map here cost 3 MB per query on 40,000
    // chunks, and an object per scored chunk where only `limit` are returned.
    const scores = new Float64Array(this.lengths.length);
    const scored: number[] = [];
    for (const term of new Set(terms)) {
      let documentFrequency = 0;
      this.postings.forEach(term, (posting) => {
        if (this.isLive(posting)) documentFrequency += 1;
      });
      if (documentFrequency === 0) continue;
      const idf = Math.log(1 + (this.liveChunks - documentFrequency + 0.5) / (documentFrequency + 0.5));
      this.postings.forEach(term, (posting) => {
        const chunkId = Math.floor(posting / TF_SLOTS);
        const length = this.lengths[chunkId] ?? -1;
        if (length < 0) return;
        const tf = posting % TF_SLOTS;
        const gain = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / averageLength));
        if (scores[chunkId] === 0) scored.push(chunkId);
        scores[chunkId] = (scores[chunkId] ?? 0) + gain;
      });
    }
    scored.sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
    return scored.slice(0, limit).map((chunkId) => ({ chunkId, score: scores[chunkId] ?? 0 }));
  }

  /** Copies the live postings into a fresh pool (the old one is dropped whole). O(total postings); runs only when dead chunks dominate. */
  private compact(): void {
    const fresh = new PostingPool();
    const bound = this.postings.termBound();
    for (let term = 0; term < bound; term += 1) {
      this.postings.forEach(term, (posting) => {
        if (this.isLive(posting)) fresh.append(term, posting);
      });
    }
    this.postings = fresh;
    this.deadChunks = 0;
  }
}
