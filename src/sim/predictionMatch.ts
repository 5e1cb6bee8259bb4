/**
 * How an answer uses a request's prediction (OpenAI-style predicted outputs), token by token, as the simulator models
 * it. The server keeps a place in the prediction: an answer token equal to the prediction's token at that place is
 * accepted (a speculative-decoding server verifies it in a batch, so it streams faster) and the place moves on; any
 * other token is generated normally, and the place jumps forward to where the next few answer tokens appear in the
 * prediction (re-synchronising after an inserted, replaced or deleted stretch). The match only moves forward, so
 * accepted tokens appear in the answer in the prediction's order. Rejected tokens are the prediction's tokens the
 * answer did not use, which is OpenAI's meaning of `rejected_prediction_tokens`.
 */

/** The answer's use of the prediction. */
export interface PredictionMatch {
  /** Prediction tokens that appeared in the answer, in order. */
  readonly accepted: number;
  /** Prediction tokens the answer did not use: prediction length - accepted. */
  readonly rejected: number;
  /** Per answer token: 1 when it was accepted from the prediction, else 0. */
  readonly acceptedMask: Uint8Array;
}

/** How many answer tokens must appear together in the prediction to re-synchronise there (fewer match by chance). */
const RESYNC_TOKENS = 3;

function keyOf(ids: readonly number[], from: number): string {
  return ids.slice(from, from + RESYNC_TOKENS).join(',');
}

/** The first entry of ascending `positions` that is >= `from`, or -1. */
function firstAtOrAfter(positions: readonly number[], from: number): number {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((positions[middle] ?? -1) < from) low = middle + 1;
    else high = middle;
  }
  return positions[low] ?? -1;
}

/**
 * Matches `answer` token ids against `prediction` token ids. O(n log m): the prediction's 3-token runs are indexed
 * once, so a wholly unrelated prediction of 16,000 tokens costs no more than a good one.
 */
export function matchPrediction(answer: readonly number[], prediction: readonly number[]): PredictionMatch {
  const acceptedMask = new Uint8Array(answer.length);
  const runs = new Map<string, number[]>();
  for (let position = 0; position + RESYNC_TOKENS <= prediction.length; position++) {
    const key = keyOf(prediction, position);
    const positions = runs.get(key);
    if (positions === undefined) runs.set(key, [position]);
    else positions.push(position);
  }
  let place = 0;
  let accepted = 0;
  for (let index = 0; index < answer.length; index++) {
    if (place < prediction.length && prediction[place] === answer[index]) {
      acceptedMask[index] = 1;
      accepted++;
      place++;
      continue;
    }
    if (index + 1 + RESYNC_TOKENS > answer.length) continue;
    const positions = runs.get(keyOf(answer, index + 1));
    if (positions === undefined) continue;
    const found = firstAtOrAfter(positions, place);
    if (found >= 0) place = found;
  }
  return { accepted, rejected: prediction.length - accepted, acceptedMask };
}

/**
 * When each answer token is due after the first, in ms (entry 0 is 0): a normal token takes 1000 / `tokensPerSec`, an
 * accepted one `speedup` times less, as a speculative-decoding server verifies a run of drafted tokens in one step.
 * Returns the offsets and the whole decode time (every token's cost, the first one's included).
 */
export function tokenSchedule(
  acceptedMask: Uint8Array,
  tokensPerSec: number,
  speedup: number,
): { offsetsMs: Float64Array; decodeMs: number } {
  const normalMs = 1000 / tokensPerSec;
  const acceptedMs = normalMs / speedup;
  const offsetsMs = new Float64Array(acceptedMask.length);
  let elapsed = 0;
  for (let index = 0; index < acceptedMask.length; index++) {
    const cost = acceptedMask[index] === 1 ? acceptedMs : normalMs;
    if (index > 0) elapsed += cost;
    offsetsMs[index] = elapsed;
  }
  const firstCost = acceptedMask.length === 0 ? 0 : acceptedMask[0] === 1 ? acceptedMs : normalMs;
  return { offsetsMs, decodeMs: elapsed + firstCost };
}
