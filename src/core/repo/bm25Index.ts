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

/**
 * An inverted index with BM25 scoring over chunks. Postings are packed as one small integer each
 * (`chunkId * 256 + tf`), so 20,000 files cost a few MB. Removing a chunk marks it dead (O(1)); dead postings are
 * skipped at query time and compacted away once they outnumber the live ones, so an update never rebuilds the index.
 */
export class Bm25Index {
  /**
   * Postings by term id (see `TermDictionary`): packed integers in a typed array that doubles when full, with the count
   * in use beside it. Half the memory of plain arrays of numbers (4 bytes a posting, not 8) and nothing for the GC to trace.
   */
  private readonly postings: (Int32Array | undefined)[] = [];
  private readonly postingLengths: number[] = [];
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
    counts.forEach((termId, count) => {
      const packed = chunkId * TF_SLOTS + Math.min(count, TF_SLOTS - 1);
      let list = this.postings[termId];
      const length = this.postingLengths[termId] ?? 0;
      if (list === undefined || length === list.length) {
        const grown = new Int32Array(list === undefined ? 2 : list.length * 2);
        if (list !== undefined) grown.set(list);
        list = grown;
        this.postings[termId] = list;
      }
      list[length] = packed;
      this.postingLengths[termId] = length + 1;
    });
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
    let count = 0;
    for (const length of this.postingLengths) count += length ?? 0;
    return count;
  }

  /** The best `limit` chunks for the query's term ids, best first. */
  search(terms: readonly number[], limit: number): ScoredChunk[] {
    if (this.deadChunks > this.liveChunks && this.deadChunks > 1_000) this.compact();
    if (this.liveChunks === 0 || terms.length === 0) return [];
    const averageLength = this.totalLength / this.liveChunks || 1;
    const scores = new Map<number, number>();
    for (const term of new Set(terms)) {
      const list = this.postings[term];
      if (list === undefined) continue;
      const used = this.postingLengths[term] ?? 0;
      let documentFrequency = 0;
      for (let at = 0; at < used; at += 1) if ((this.lengths[Math.floor((list[at] ?? 0) / TF_SLOTS)] ?? -1) >= 0) documentFrequency += 1;
      if (documentFrequency === 0) continue;
      const idf = Math.log(1 + (this.liveChunks - documentFrequency + 0.5) / (documentFrequency + 0.5));
      for (let at = 0; at < used; at += 1) {
        const packed = list[at] ?? 0;
        const chunkId = Math.floor(packed / TF_SLOTS);
        const length = this.lengths[chunkId] ?? -1;
        if (length < 0) continue;
        const tf = packed % TF_SLOTS;
        const gain = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / averageLength));
        scores.set(chunkId, (scores.get(chunkId) ?? 0) + gain);
      }
    }
    const ranked: ScoredChunk[] = [];
    for (const [chunkId, score] of scores) ranked.push({ chunkId, score });
    ranked.sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
    return ranked.slice(0, limit);
  }

  /** Drops dead postings (and terms left with none). O(total postings); runs only when dead chunks dominate. */
  private compact(): void {
    this.postings.forEach((list, term) => {
      if (list === undefined) return;
      const live = list.subarray(0, this.postingLengths[term] ?? 0).filter((packed) => (this.lengths[Math.floor(packed / TF_SLOTS)] ?? -1) >= 0);
      this.postings[term] = live.length === 0 ? undefined : live;
      this.postingLengths[term] = live.length;
    });
    this.deadChunks = 0;
  }
}
