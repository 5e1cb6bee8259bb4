// Server slots: with N slots a request waits, first come first served, for a free one before its TTFT starts; a client
// that leaves frees its slot at once, or its place in the queue (never a slot it did not hold). Timing bounds here are
// either exact consequences of the schedule (a queued request's first token comes at least a TTFT after the slot frees)
// or generous (100 ms where a few ms are expected), so that a loaded 2-core machine cannot make them flake.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SlotPool } from '../../../src/sim/slotPool';
import { describeRequest, type SimRequestLog } from '../../../src/sim/simRequestLog';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import type { SimulatorOptions } from '../../../src/sim/simOptions';
import { field, getUrl, parseRecord, postJson, readTimed, sseEvents, testAgent } from './simHelpers';

const agent = testAgent();
afterAll(async () => {
  await agent.close();
});

const TTFT_MS = 20;

async function withSim(options: SimulatorOptions, run: (sim: RunningSimulator) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ ttftMs: TTFT_MS, tokensPerSec: 2000, ...options });
  try {
    await run(sim);
  } finally {
    await sim.close();
  }
}

const completions = (maxTokens: number, extra: Record<string, unknown> = {}) => ({
  prompt: 'const a = 1;\n',
  max_tokens: maxTokens,
  stream: true,
  ...extra,
});

/** The log entry of the n-th request (1-based). */
function requestOf(sim: RunningSimulator, id: number): SimRequestLog {
  const entry = sim.requests.find((request) => request.id === id);
  if (entry === undefined) throw new Error(`request #${id} not logged`);
  return entry;
}

/** Starts a streamed request and returns once its headers arrived (a queued stream gets them at once). */
async function open(sim: RunningSimulator, body: unknown, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await postJson(agent, `${sim.baseUrl}/v1/completions`, body, headers, controller.signal);
  expect(response.status).toBe(200);
  return { response, abort: () => controller.abort(), text: () => response.text() };
}

describe('slots', () => {
  it('with one slot, a second request waits for the first to finish: its TTFT includes the first generation', async () => {
    await withSim({ slots: 1 }, async (sim) => {
      // 200 tokens at 400 tok/s: the first request generates for about half a second.
      const first = await open(sim, completions(200), { 'x-sim-tokens-per-sec': '400' });
      const sentAt = performance.now();
      const second = await open(sim, completions(5));
      const secondEvents = sseEvents(await readTimed(second.response.body));
      const clientTtftMs = (secondEvents[0]?.atMs ?? 0) - sentAt;
      await first.text();
      const [a, b] = [requestOf(sim, 1), requestOf(sim, 2)];
      expect(a).toMatchObject({ slotId: 0, slotWaitMs: 0, outcome: 'completed', tokensWritten: 200 });
      expect(b).toMatchObject({ slotId: 0, outcome: 'completed', tokensWritten: 5 });
      expect(b.arrivalMs).toBeLessThan(a.lastTokenMs ?? 0);
      // The slot freed only after the first request's last token, and the TTFT pacing starts then.
      expect(b.firstTokenMs ?? 0).toBeGreaterThanOrEqual((a.lastTokenMs ?? 0) + TTFT_MS);
      expect(b.slotWaitMs ?? 0).toBeGreaterThan(0);
      expect((b.firstTokenMs ?? 0) - b.arrivalMs).toBeGreaterThan(b.slotWaitMs ?? 0);
      // 199 more tokens at 400 tok/s is about 500 ms; the client sees that wait too.
      expect(clientTtftMs).toBeGreaterThan(250);
      expect(describeRequest(b)).toMatch(/ttft [\d.]+ ms \(waited [\d.]+ ms for slot 0\)/);
      expect(describeRequest(a)).not.toContain('waited');
    });
  });

  it('a queued request whose client leaves never generates and frees nothing; the holder keeps its slot', async () => {
    await withSim({ slots: 1 }, async (sim) => {
      // The stall fault holds the slot until its client leaves: no timing involved.
      const holder = await open(sim, completions(50), { 'x-sim-fault': 'stall:2' });
      const leaver = await open(sim, completions(50));
      const next = await open(sim, completions(5));
      leaver.abort();
      await vi.waitFor(() => expect(requestOf(sim, 2).outcome).toBe('client-left'));
      const left = requestOf(sim, 2);
      expect(left).toMatchObject({
        slotId: null,
        tokensWritten: 0,
        firstTokenMs: null,
        clientDisconnected: true,
        tokensGeneratedAfterDisconnect: 0,
      });
      expect(left.tokensNotGenerated).toBe(left.tokensPlanned);
      expect(left.slotWaitMs ?? -1).toBeGreaterThanOrEqual(0);
      expect(describeRequest(left)).toContain('client left while waiting for a slot');
      // It held nothing, so nothing was freed: the third request still waits behind the holder.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(requestOf(sim, 3)).toMatchObject({
        slotId: null,
        slotWaitMs: null,
        tokensWritten: 0,
        outcome: 'in-progress',
      });
      expect(requestOf(sim, 1)).toMatchObject({ slotId: 0, outcome: 'stalled' });
      holder.abort();
      expect(await next.text()).toContain('[DONE]');
      expect(requestOf(sim, 3)).toMatchObject({ slotId: 0, outcome: 'completed', tokensWritten: 5 });
    });
  });

  it('a client that leaves mid-stream frees its slot at once: the next waiting request starts within a few ms', async () => {
    await withSim({ slots: 1, ttftMs: 5 }, async (sim) => {
      // 2,000 tokens at 500 tok/s would hold the slot for 4 s.
      const holder = await open(sim, completions(2000), { 'x-sim-tokens-per-sec': '500' });
      const waiting = await open(sim, completions(5));
      const body = holder.response.body;
      if (body === null) throw new Error('no body');
      let reads = 0;
      for await (const _ of body) if (++reads >= 3) break;
      holder.abort();
      await waiting.text();
      const [a, b] = [requestOf(sim, 1), requestOf(sim, 2)];
      expect(a.outcome).toBe('client-left');
      expect(a.tokensWritten).toBeLessThan(2000);
      const leftAt = a.clientDisconnectedMs ?? 0;
      expect(b.firstTokenMs ?? 0).toBeGreaterThanOrEqual(leftAt + 5);
      // A few ms are expected (the 5 ms TTFT plus a timer); 100 ms of margin for a loaded machine.
      expect((b.firstTokenMs ?? 0) - leftAt).toBeLessThan(5 + 100);
    });
  });

  it('grants slots first come first served, and more slots (setDefaults) start waiting requests at once', async () => {
    await withSim({ slots: 1 }, async (sim) => {
      const holder = await open(sim, completions(5), { 'x-sim-fault': 'stall:1' });
      const queued = [];
      for (let index = 0; index < 3; index++) queued.push(await open(sim, completions(40)));
      sim.setDefaults({ slots: 2 });
      // The oldest waiting request takes the new slot; the others wait for it in order.
      await vi.waitFor(() => expect(requestOf(sim, 2).slotId).toBe(1));
      expect(requestOf(sim, 3).slotId).toBeNull();
      await Promise.all(queued.map((request) => request.text()));
      const [b, c, d] = [requestOf(sim, 2), requestOf(sim, 3), requestOf(sim, 4)];
      expect(b.firstTokenMs ?? 0).toBeLessThan(c.firstTokenMs ?? 0);
      expect(c.firstTokenMs ?? 0).toBeLessThan(d.firstTokenMs ?? 0);
      expect(c.firstTokenMs ?? 0).toBeGreaterThanOrEqual((b.lastTokenMs ?? 0) + TTFT_MS);
      expect(d.firstTokenMs ?? 0).toBeGreaterThanOrEqual((c.lastTokenMs ?? 0) + TTFT_MS);
      expect(requestOf(sim, 1)).toMatchObject({ slotId: 0, outcome: 'stalled' });
      holder.abort();
    });
  });

  it('non-streamed answers queue too, and get nothing before their slot', async () => {
    await withSim({ slots: 1 }, async (sim) => {
      const whole = (tokens: number) =>
        postJson(
          agent,
          `${sim.baseUrl}/v1/completions`,
          { ...completions(tokens), stream: false },
          { 'x-sim-tokens-per-sec': '1000' },
        );
      const [first, second] = await Promise.all([whole(100), whole(3)]);
      await Promise.all([first.text(), second.text()]);
      const [a, b] = [requestOf(sim, 1), requestOf(sim, 2)];
      const [earlier, later] = (a.slotWaitMs ?? 0) === 0 ? [a, b] : [b, a];
      expect(earlier.slotWaitMs).toBe(0);
      expect(later.slotWaitMs ?? 0).toBeGreaterThan(0);
      expect(later.firstTokenMs ?? 0).toBeGreaterThanOrEqual((earlier.endMs ?? 0) + TTFT_MS);
    });
  });

  it('without a limit every request gets a slot at once; llama.cpp reports its slot and total_slots', async () => {
    await withSim({}, async (sim) => {
      const [one, two] = await Promise.all([open(sim, completions(30)), open(sim, completions(30))]);
      await Promise.all([one.text(), two.text()]);
      expect(sim.requests.map((request) => request.slotWaitMs)).toEqual([0, 0]);
      expect(new Set(sim.requests.map((request) => request.slotId))).toEqual(new Set([0, 1]));
    });
    await withSim({ slots: 3 }, async (sim) => {
      const holder = await open(sim, completions(5), { 'x-sim-fault': 'stall:1' });
      const response = await postJson(agent, `${sim.baseUrl}/completion`, { prompt: 'x', n_predict: 3, stream: true });
      const events = sseEvents(await readTimed(response.body)).map((event) => parseRecord(event.data));
      expect(events.map((event) => event['id_slot'])).toEqual([1, 1, 1, 1]);
      const props = parseRecord(await (await getUrl(agent, `${sim.baseUrl}/props`)).text());
      expect(field(props, 'total_slots')).toBe(3);
      holder.abort();
    });
  });

  it('rejects a slot count that is not a whole number >= 1', async () => {
    await expect(startSimulator({ slots: 0 })).rejects.toThrow(/slots/);
    await expect(startSimulator({ slots: 1.5 })).rejects.toThrow(/slots/);
  });
});

describe('SlotPool', () => {
  it('grants in arrival order, lowest free slot first; release is idempotent and a waiting release frees nothing', () => {
    let limit = 2;
    const pool = new SlotPool(() => limit);
    const granted: string[] = [];
    const a = pool.acquire((ticket, queued) => granted.push(`a:${ticket.slot}:${queued}`));
    const b = pool.acquire((ticket, queued) => granted.push(`b:${ticket.slot}:${queued}`));
    const c = pool.acquire((ticket, queued) => granted.push(`c:${ticket.slot}:${queued}`));
    const d = pool.acquire((ticket, queued) => granted.push(`d:${ticket.slot}:${queued}`));
    expect(granted).toEqual(['a:0:false', 'b:1:false']);
    expect([pool.held, pool.waiting]).toEqual([2, 2]);
    c.release();
    c.release();
    expect([pool.held, pool.waiting]).toEqual([2, 1]);
    a.release();
    a.release();
    expect(granted).toEqual(['a:0:false', 'b:1:false', 'd:0:true']);
    expect(d.slot).toBe(0);
    limit = 3;
    const e = pool.acquire((ticket) => granted.push(`e:${ticket.slot}`));
    expect(e.slot).toBe(2);
    pool.close();
    const f = pool.acquire(() => granted.push('f'));
    b.release();
    expect(f.slot).toBeNull();
    expect(granted).not.toContain('f');
  });
});
