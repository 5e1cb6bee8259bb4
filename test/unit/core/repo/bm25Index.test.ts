import { describe, expect, it } from 'vitest';
import { Bm25Index } from '../../../../src/core/repo/bm25Index';
import { TermCounts } from '../../../../src/core/repo/termDictionary';

/** BM25 as written in the textbook, over plain maps: the reference the packed, paged index must agree with. */
function referenceScores(
  chunks: ReadonlyMap<number, ReadonlyMap<number, number>>,
  query: readonly number[],
): Map<number, number> {
  const k1 = 1.2;
  const b = 0.75;
  let total = 0;
  for (const counts of chunks.values()) for (const count of counts.values()) total += count;
  const average = total / chunks.size;
  const scores = new Map<number, number>();
  for (const term of new Set(query)) {
    const containing = [...chunks].filter(([, counts]) => counts.has(term));
    if (containing.length === 0) continue;
    const idf = Math.log(1 + (chunks.size - containing.length + 0.5) / (containing.length + 0.5));
    for (const [chunkId, counts] of containing) {
      let length = 0;
      for (const count of counts.values()) length += count;
      const tf = Math.min(counts.get(term) ?? 0, 255);
      scores.set(
        chunkId,
        (scores.get(chunkId) ?? 0) + (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / average)),
      );
    }
  }
  return scores;
}

function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

describe('Bm25Index', () => {
  it('scores as the reference BM25 through growth, removals and compaction', () => {
    const random = makeRandom(11);
    const index = new Bm25Index();
    const live = new Map<number, Map<number, number>>();
    const scratch = new TermCounts();
    // A skewed vocabulary: a few terms in nearly every chunk (long posting chains of many blocks), most in a few.
    const addRandomChunk = (): void => {
      scratch.reset();
      const counts = new Map<number, number>();
      const words = 5 + Math.floor(random() * 40);
      for (let word = 0; word < words; word += 1) {
        const term = Math.floor(random() ** 3 * 3_000);
        scratch.add(term);
        counts.set(term, (counts.get(term) ?? 0) + 1);
      }
      live.set(index.addChunk(scratch), counts);
    };
    for (let chunk = 0; chunk < 3_000; chunk += 1) addRandomChunk();
    // Remove most chunks (more than 1,000 and more dead than live: the next search compacts), then add more.
    for (const chunkId of [...live.keys()]) {
      if (random() < 0.7) {
        index.removeChunk(chunkId);
        live.delete(chunkId);
      }
    }
    for (let chunk = 0; chunk < 500; chunk += 1) addRandomChunk();
    const postingsBefore = index.postingCount();
    for (const query of [[0], [1, 2, 3], [5, 900, 2_999], [42, 42, 7]]) {
      const expected = [...referenceScores(live, query)].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 25);
      const actual = index.search(query, 25);
      expect(actual.map((hit) => hit.chunkId)).toEqual(expected.map(([chunkId]) => chunkId));
      actual.forEach((hit, at) => expect(hit.score).toBeCloseTo(expected[at]?.[1] ?? Number.NaN, 9));
    }
    expect(index.size()).toBe(live.size);
    // Compaction dropped the dead postings.
    let livePostings = 0;
    for (const counts of live.values()) livePostings += counts.size;
    expect(postingsBefore).toBeGreaterThan(livePostings);
    expect(index.postingCount()).toBe(livePostings);
  });

  it('caps a term frequency at 255 and finds nothing for unknown terms', () => {
    const index = new Bm25Index();
    const counts = new TermCounts();
    for (let repeat = 0; repeat < 300; repeat += 1) counts.add(4);
    const chunkId = index.addChunk(counts);
    expect(index.search([4], 5).map((hit) => hit.chunkId)).toEqual([chunkId]);
    expect(index.search([99_999], 5)).toEqual([]);
  });
});
