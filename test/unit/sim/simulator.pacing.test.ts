// The simulator's rate is the truth meters are checked against, so its pacing is checked from the client side.
// Bounds are generous (5%, tens of ms): these are not speed targets, they catch a broken scheduler. On a loaded
// 2-core machine one run can be starved of CPU, so the rate checks take the best of three runs: a scheduler that is
// systematically wrong still fails, a single starved run does not.
import { describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../../src/sim/simulator';
import {
  field,
  lastRequestOf,
  parseRecord,
  postJson,
  readTimed,
  simulatorForFile,
  sseEvents,
  testAgent,
  type TimedEvent,
} from './simHelpers';

const agent = testAgent();
let sim: RunningSimulator;

simulatorForFile({ ttftMs: 100, tokensPerSec: 1000 }, agent, async (running) => {
  sim = running;
  // Warm up the JIT and the tokenizer so that the first measured run is not also the first run.
  await (
    await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt: 'warm', max_tokens: 50, stream: true },
      { 'x-sim-ttft-ms': '0' },
    )
  ).text();
});

/** Runs `measure` up to three times and returns the result closest to `target`, stopping early when within 2%. */
async function bestOfThree(
  target: number,
  measure: () => Promise<{ rate: number; extra: number }>,
  goodEnough: () => boolean = () => true,
): Promise<{ rate: number; extra: number }> {
  let best: { rate: number; extra: number } | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await measure();
    if (best === null || Math.abs(result.rate - target) < Math.abs(best.rate - target)) best = result;
    if (Math.abs(best.rate - target) / target < 0.02 && goodEnough()) break;
  }
  if (best === null) throw new Error('no measurement');
  return best;
}

/** Decode rate seen by the client: (tokens - 1) / (last arrival - first arrival), in tokens/s. */
function clientRate(tokenTimes: readonly number[]): number {
  const first = tokenTimes[0] ?? 0;
  const last = tokenTimes[tokenTimes.length - 1] ?? 0;
  return ((tokenTimes.length - 1) * 1000) / (last - first);
}

const lastRequest = () => lastRequestOf(sim);

describe('pacing', () => {
  it('streams 500 tokens at 1,000 tok/s within 5%, after the configured TTFT', async () => {
    // The smallest TTFT of the runs: a starved event loop only ever delays the first token, so the best run shows the schedule.
    let ttft = Number.POSITIVE_INFINITY;
    let written = 0;
    let bestSoFar = Number.POSITIVE_INFINITY;
    const { rate } = await bestOfThree(
      1000,
      async () => {
        const sentAt = performance.now();
        const response = await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, {
          messages: [{ role: 'user', content: 'Refactor the parser' }],
          max_tokens: 500,
          stream: true,
        });
        const events = sseEvents(await readTimed(response.body));
        const content = events.filter(
          (event) =>
            event.data !== '[DONE]' &&
            String(field(parseRecord(event.data), 'choices', 0, 'delta', 'content') ?? '').length > 0,
        );
        expect(content).toHaveLength(500);
        const times = content.map((event) => event.atMs);
        const rateSeen = clientRate(times);
        ttft = Math.min(ttft, (times[0] ?? 0) - sentAt);
        if (Math.abs(rateSeen - 1000) < Math.abs(bestSoFar - 1000)) {
          bestSoFar = rateSeen;
          written = lastRequest().writtenTokensPerSec ?? 0;
        }
        return { rate: rateSeen, extra: 0 };
      },
      () => ttft < 100 + 500,
    );
    expect(rate).toBeGreaterThan(950);
    expect(rate).toBeLessThan(1050);
    expect(ttft).toBeGreaterThanOrEqual(99);
    // Generous: a starved event loop delays the first token, it never makes it early.
    expect(ttft).toBeLessThan(100 + 500);
    // The simulator's own record of what it wrote agrees with what the client saw.
    expect(Math.abs(written - rate) / rate).toBeLessThan(0.05);
  });

  it('groups tokens per event and keeps the token rate', async () => {
    const { rate } = await bestOfThree(1000, async () => {
      const response = await postJson(
        agent,
        `${sim.baseUrl}/completion`,
        { prompt: 'pub fn ', n_predict: 400, stream: true },
        { 'x-sim-tokens-per-event': '4', 'x-sim-ttft-ms': '20' },
      );
      const events: TimedEvent[] = sseEvents(await readTimed(response.body));
      const content = events.slice(0, -1).map((event) => ({ event, body: parseRecord(event.data) }));
      const counts = content.map(({ body }) => (Array.isArray(body['tokens']) ? body['tokens'].length : 0));
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(400);
      // Every event holds 4 tokens except where a multi-byte character straddles a boundary.
      expect(counts.filter((count) => count === 4).length).toBeGreaterThan(95);
      // The first event carries tokens 0-3 and the last tokens 396-399: 396 token intervals between them.
      const first = content[0]?.event.atMs ?? 0;
      const last = content.at(-1)?.event.atMs ?? 0;
      return { rate: ((399 - 3) * 1000) / (last - first), extra: 0 };
    });
    expect(rate).toBeGreaterThan(950);
    expect(rate).toBeLessThan(1050);
  });

  it('sends the role-only chunk at once and the first content only after the TTFT', async () => {
    const sentAt = performance.now();
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'x' }], max_tokens: 3, stream: true },
      { 'x-sim-ttft-ms': '300' },
    );
    const events = sseEvents(await readTimed(response.body));
    const roleAt = (events[0]?.atMs ?? 0) - sentAt;
    const contentAt = (events[1]?.atMs ?? 0) - sentAt;
    expect(field(parseRecord(events[0]?.data ?? ''), 'choices', 0, 'delta', 'content')).toBe('');
    expect(roleAt).toBeLessThan(250);
    expect(contentAt).toBeGreaterThanOrEqual(299);
  });

  it('delays a non-streamed answer by the TTFT plus the decode time', async () => {
    const sentAt = performance.now();
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt: 'x', max_tokens: 200 },
      { 'x-sim-ttft-ms': '50' },
    );
    await response.text();
    // 50 ms + 199 tokens at 1,000 tok/s = 249 ms.
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(248);
  });
});
