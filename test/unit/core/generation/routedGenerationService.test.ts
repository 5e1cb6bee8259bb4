import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/core/clock';
import type { BackendRole, ResolvedEndpoint } from '../../../../src/core/endpoint';
import { BackendError } from '../../../../src/core/errors';
import type { GenerationSpec } from '../../../../src/core/generation/generationService';
import { RoutedGenerationService, type RouteDecision } from '../../../../src/core/generation/routedGenerationService';
import { EndpointHealthBook } from '../../../../src/core/routing/endpointHealth';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { createTransport, type Transport } from '../../../../src/core/stream/transport';
import { startSimulator, type RunningSimulator } from '../../../../src/sim/simulator';
import type { SimulatorOptions } from '../../../../src/sim/simOptions';
import { resolvedEndpoint } from '../../builders/endpoints';
import { closedPort } from '../../builders/ports';
import { RecordingSink } from '../../builders/statsSinks';

let transport: Transport;
const sims: RunningSimulator[] = [];
let refusedUrl = '';

async function sim(options: SimulatorOptions): Promise<RunningSimulator> {
  const started = await startSimulator({ ttftMs: 5, tokensPerSec: 5_000, completionTokens: 20, ...options });
  sims.push(started);
  return started;
}

beforeAll(async () => {
  transport = createTransport({ spareConnections: 0 });
  refusedUrl = `http://127.0.0.1:${await closedPort()}/v1`;
});

afterAll(async () => {
  await transport.close();
  await Promise.all(sims.map((running) => running.close()));
});

function endpoint(
  role: BackendRole,
  index: number,
  baseUrl: string,
  contextWindow: number | null = null,
): ResolvedEndpoint {
  return resolvedEndpoint({
    id: `${role}#${index}`,
    role,
    label: `${role === 'burst' ? 'Burst' : 'Long'} ${index}`,
    target: { baseUrl, model: `sim-${role}-${index}` },
    contextWindow,
    simulated: true,
  });
}

function service(
  endpoints: readonly ResolvedEndpoint[],
  extra: Partial<ConstructorParameters<typeof RoutedGenerationService>[0]> = {},
) {
  const sink = new RecordingSink();
  const decisions: RouteDecision[] = [];
  const routed = new RoutedGenerationService({
    knownSecrets: () => [],
    transport,
    clock: systemClock,
    endpoints: (role) => endpoints.filter((e) => e.role === role),
    sink,
    countTokens,
    onDecision: (decision) => decisions.push(decision),
    ...extra,
  });
  return { routed, sink, decisions };
}

function spec(
  task: GenerationSpec['task'],
  prompt = 'write a function',
  extra: Partial<GenerationSpec> = {},
): GenerationSpec {
  return {
    task,
    signal: new AbortController().signal,
    promptTokens: countTokens(prompt),
    maxOutputTokens: 64,
    build: (e) => ({ target: e.target, request: { messages: [{ role: 'user', content: prompt }], maxTokens: 64 } }),
    ...extra,
  };
}

async function drain(
  run: ReturnType<RoutedGenerationService['start']>,
): Promise<{ text: string; error: BackendError | null }> {
  let text = '';
  try {
    for await (const event of run.events) if (event.kind === 'text') text += event.text;
    return { text, error: null };
  } catch (error) {
    if (error instanceof BackendError) return { text, error };
    throw error;
  }
}

describe('failover against simulator faults', () => {
  it("hands every response's headers to onResponseHeaders with the endpoint that sent them", async () => {
    const limited = await sim({ fault: { kind: '429' }, retryAfterS: 1 });
    const long = await sim({});
    const seen: { endpointId: string; headers: Readonly<Record<string, string>> }[] = [];
    const { routed } = service(
      [endpoint('burst', 0, `${limited.baseUrl}/v1`), endpoint('longContext', 0, `${long.baseUrl}/v1`)],
      {
        onResponseHeaders: (from, headers) => seen.push({ endpointId: from.id, headers }),
      },
    );
    const { error } = await drain(routed.start(spec('refactor')));
    expect(error).toBeNull();
    expect(seen.map((entry) => entry.endpointId)).toEqual(['burst#0', 'longContext#0']);
    expect(seen[0]?.headers['retry-after']).toBe('1');
  });

  it('a refused connection fails over to the long-context model', async () => {
    const long = await sim({});
    const { routed, sink, decisions } = service([
      endpoint('burst', 0, refusedUrl),
      endpoint('longContext', 0, `${long.baseUrl}/v1`),
    ]);
    const run = routed.start(spec('refactor'));
    const { text, error } = await drain(run);
    expect(error).toBeNull();
    expect(text.length).toBeGreaterThan(0);
    expect(run.route()).toMatchObject({ endpoint: { id: 'longContext#0' }, reason: 'failover:refused' });
    const record = await run.finished;
    expect(record).toMatchObject({ endpointId: 'longContext#0', routeReason: 'failover:refused', outcome: 'ok' });
    // Every attempt keeps the router's prompt estimate: a failed one is costed by it.
    expect(sink.records.find((r) => r.endpointId === 'burst#0')).toMatchObject({
      outcome: 'error',
      errorReason: 'network',
      promptTokensEstimate: countTokens('write a function'),
    });
    expect(record?.promptTokensEstimate).toBe(countTokens('write a function'));
    expect(decisions.map((d) => `${d.endpointId}:${d.reason}`)).toEqual([
      'burst#0:fits',
      'longContext#0:failover:refused',
    ]);
  });

  it('a 500 fails over to the next burst endpoint', async () => {
    const broken = await sim({ fault: { kind: '500' } });
    const healthy = await sim({});
    const { routed } = service([
      endpoint('burst', 0, `${broken.baseUrl}/v1`),
      endpoint('burst', 1, `${healthy.baseUrl}/v1`),
    ]);
    const run = routed.start(spec('refactor'));
    expect((await drain(run)).error).toBeNull();
    expect(run.route()?.reason).toBe('failover:http-500');
    expect(run.route()?.endpoint.id).toBe('burst#1');
  });

  it('a 429 rests the endpoint for Retry-After; the next request goes straight past it as cooling-down', async () => {
    const limited = await sim({ fault: { kind: '429' }, retryAfterS: 7 });
    const long = await sim({});
    const { routed } = service([
      endpoint('burst', 0, `${limited.baseUrl}/v1`),
      endpoint('longContext', 0, `${long.baseUrl}/v1`),
    ]);
    const first = routed.start(spec('refactor'));
    expect((await drain(first)).error).toBeNull();
    expect(first.route()?.reason).toBe('failover:rate-limited');
    const rest = routed.health.restRemainingMs('burst#0');
    expect(rest).toBeGreaterThan(6_000);
    expect(rest).toBeLessThanOrEqual(7_000);
    const requestsBefore = limited.requests.length;
    const second = routed.start(spec('refactor'));
    expect((await drain(second)).error).toBeNull();
    expect(second.route()).toMatchObject({ endpoint: { id: 'longContext#0' }, reason: 'cooling-down' });
    expect(limited.requests.length).toBe(requestsBefore);
  });

  it('a stall before the first token times out and fails over', async () => {
    const stalled = await sim({ fault: { kind: 'stall', afterTokens: 0 } });
    const long = await sim({});
    const { routed, sink } = service(
      [endpoint('burst', 0, `${stalled.baseUrl}/v1`), endpoint('longContext', 0, `${long.baseUrl}/v1`)],
      { firstTokenTimeoutMs: () => 300 },
    );
    const run = routed.start(spec('refactor'));
    expect((await drain(run)).error).toBeNull();
    expect(run.route()?.reason).toBe('failover:timeout');
    expect(sink.records.find((r) => r.endpointId === 'burst#0')?.errorReason).toBe('timeout');
  });

  it('a context-too-long answer re-routes once to the larger window, and the next request of that size goes there directly', async () => {
    const small = await sim({ contextWindow: 512 });
    const long = await sim({ contextWindow: 200_000 });
    const { routed } = service([
      endpoint('burst', 0, `${small.baseUrl}/v1`),
      endpoint('longContext', 0, `${long.baseUrl}/v1`, 200_000),
    ]);
    const prompt = 'const value = compute(input);\n'.repeat(150);
    const run = routed.start(spec('refactor', prompt));
    expect((await drain(run)).error).toBeNull();
    expect(run.route()).toMatchObject({ endpoint: { id: 'longContext#0' }, reason: 'failover:context-too-long' });
    const again = routed.start(spec('refactor', prompt));
    expect((await drain(again)).error).toBeNull();
    expect(again.route()?.reason).toBe('too-long');
  });

  it('re-routes on context-too-long only once', async () => {
    const small = await sim({ contextWindow: 512 });
    const alsoSmall = await sim({ contextWindow: 600 });
    const { routed } = service([
      endpoint('burst', 0, `${small.baseUrl}/v1`),
      endpoint('longContext', 0, `${alsoSmall.baseUrl}/v1`),
    ]);
    const { error } = await drain(routed.start(spec('refactor', 'const value = compute(input);\n'.repeat(150))));
    expect(error?.reason).toBe('context-too-long');
    expect(small.requests.length + alsoSmall.requests.length).toBe(2);
  });

  it('does not fail over on 401: the key is wrong, and the next endpoint would not fix that', async () => {
    const locked = await sim({ apiKey: 'secret-key' });
    const long = await sim({});
    const { routed } = service([
      endpoint('burst', 0, `${locked.baseUrl}/v1`),
      endpoint('longContext', 0, `${long.baseUrl}/v1`),
    ]);
    const { error } = await drain(routed.start(spec('refactor')));
    expect(error?.reason).toBe('unauthorized');
    expect(long.requests.length).toBe(0);
  });

  it('fails fast with retry-after when every fitting endpoint is resting', async () => {
    const limited = await sim({ fault: { kind: '429' }, retryAfterS: 30 });
    const { routed } = service([endpoint('burst', 0, `${limited.baseUrl}/v1`)]);
    expect((await drain(routed.start(spec('refactor')))).error?.reason).toBe('rate-limited');
    const run = routed.start(spec('refactor'));
    const { error } = await drain(run);
    expect(error?.reason).toBe('rate-limited');
    expect(error?.retryAfterMs).toBeGreaterThan(25_000);
    expect(limited.requests.length).toBe(1);
    expect(await run.finished).toBeNull();
  });

  it('reports a missing configuration as not-configured', async () => {
    const { routed } = service([]);
    expect((await drain(routed.start(spec('inline')))).error?.reason).toBe('not-configured');
  });

  it('keeps partial text and does not fail over after the first token', async () => {
    const dropping = await sim({ fault: { kind: 'disconnect', afterTokens: 5 } });
    const long = await sim({});
    const { routed } = service([
      endpoint('burst', 0, `${dropping.baseUrl}/v1`),
      endpoint('longContext', 0, `${long.baseUrl}/v1`),
    ]);
    const { text, error } = await drain(routed.start(spec('refactor')));
    expect(error?.reason).toBe('network');
    expect(text.length).toBeGreaterThan(0);
    expect(error?.partialText.length).toBeGreaterThan(0);
    expect(long.requests.length).toBe(0);
  });
});

describe('hedging (inline only)', () => {
  it('sends a second copy after the p95 TTFT, takes the first answer and cancels the other', async () => {
    const slow = await sim({ ttftMs: 1_500 });
    const fast = await sim({ ttftMs: 5 });
    const { routed, sink } = service(
      [endpoint('burst', 0, `${slow.baseUrl}/v1`), endpoint('burst', 1, `${fast.baseUrl}/v1`)],
      {
        firstTokenTimeoutMs: () => 10_000,
      },
    );
    for (let i = 0; i < 10; i += 1) routed.health.recordFirstToken('burst#0', 40);
    for (let i = 0; i < 9; i += 1) routed.hedgeBudget.noteRequest();
    const run = routed.start(spec('inline'));
    const { error } = await drain(run);
    expect(error).toBeNull();
    expect(run.route()).toMatchObject({ endpoint: { id: 'burst#1' }, reason: 'hedge' });
    expect(slow.requests.length).toBe(1);
    expect(fast.requests.length).toBe(1);
    // The loser is recorded as cancelled once its abort lands.
    await expect
      .poll(() => sink.records.find((r) => r.endpointId === 'burst#0')?.outcome, { timeout: 3_000 })
      .toBe('cancelled');
  });

  it('never hedges refactors', async () => {
    const slow = await sim({ ttftMs: 200 });
    const fast = await sim({ ttftMs: 5 });
    const { routed } = service([
      endpoint('burst', 0, `${slow.baseUrl}/v1`),
      endpoint('burst', 1, `${fast.baseUrl}/v1`),
    ]);
    for (let i = 0; i < 10; i += 1) routed.health.recordFirstToken('burst#0', 20);
    for (let i = 0; i < 50; i += 1) routed.hedgeBudget.noteRequest();
    const run = routed.start(spec('refactor'));
    expect((await drain(run)).error).toBeNull();
    expect(run.route()?.endpoint.id).toBe('burst#0');
    expect(fast.requests.length).toBe(0);
  });

  it('hedges at most 10% of inline requests even when every primary is slow', async () => {
    const slow = await sim({ ttftMs: 60 });
    const fast = await sim({ ttftMs: 5 });
    // A long TTFT window seeded with fast samples keeps the p95 at 5 ms, so every request is a hedge candidate.
    const health = new EndpointHealthBook(systemClock, { ttftWindow: 1_000 });
    for (let i = 0; i < 500; i += 1) health.recordFirstToken('burst#0', 5);
    const { routed } = service(
      [endpoint('burst', 0, `${slow.baseUrl}/v1`), endpoint('burst', 1, `${fast.baseUrl}/v1`)],
      {
        firstTokenTimeoutMs: () => 10_000,
        health,
      },
    );
    for (let i = 0; i < 30; i += 1) {
      const run = routed.start(spec('inline'));
      expect((await drain(run)).error).toBeNull();
    }
    const { requests, hedged } = routed.hedgeBudget.counts();
    expect(requests).toBe(30);
    expect(hedged).toBeGreaterThanOrEqual(1);
    expect(hedged).toBeLessThanOrEqual(3);
    // A granted hedge whose primary answered in the same instant may be cancelled before it is sent: never more.
    expect(fast.requests.length).toBeLessThanOrEqual(hedged);
    expect(slow.requests.length).toBe(30);
  });
});

describe('describeRouteDecision', () => {
  it('says where, why, the fit figures and what was skipped', async () => {
    const { describeRouteDecision } = await import('../../../../src/core/generation/routedGenerationService');
    expect(
      describeRouteDecision({
        requestId: 7,
        task: 'refactor',
        endpointId: 'longContext#0',
        endpointLabel: 'Long 0',
        reason: 'failover:http-503',
        requiredTokens: 1_234,
        contextWindow: 200_000,
        previousError: 'http 503',
        skipped: [{ endpointId: 'burst#1', why: 'cooling-down', contextWindow: 8_192, restRemainingMs: 4_500 }],
      }),
    ).toBe(
      'Route #7 refactor -> Long 0 (longContext#0): failover:http-503 after http 503; needs 1234 tokens, window 200000; skipped burst#1 cooling-down 5 s',
    );
  });
});

describe('the window asked of the server', () => {
  it('sends Ollama the window the fit was checked against as options.num_ctx, the same on every request', async () => {
    const ollama = await sim({});
    const local: ResolvedEndpoint = {
      ...endpoint('burst', 0, ollama.baseUrl),
      target: { baseUrl: ollama.baseUrl, protocol: 'ollama-chat', model: 'qwen2.5-coder' },
    };
    const { routed } = service([local], { contextWindowOf: () => 8_192 });
    for (let round = 0; round < 2; round += 1) expect((await drain(routed.start(spec('refactor')))).error).toBeNull();
    const options = ollama.requests.map(
      (entry) => (entry.body as { options?: Record<string, unknown> } | null)?.options,
    );
    expect(options).toEqual([expect.objectContaining({ num_ctx: 8_192 }), expect.objectContaining({ num_ctx: 8_192 })]);
  });

  it('sends no num_ctx when no window is known (Ollama keeps its own)', async () => {
    const ollama = await sim({});
    const local: ResolvedEndpoint = {
      ...endpoint('burst', 0, ollama.baseUrl),
      target: { baseUrl: ollama.baseUrl, protocol: 'ollama-generate', model: 'qwen2.5-coder' },
    };
    const { routed } = service([local]);
    expect((await drain(routed.start(spec('refactor')))).error).toBeNull();
    const body = ollama.requests[0]?.body as { options?: Record<string, unknown> } | null;
    expect(body?.options).toBeDefined();
    expect(body?.options).not.toHaveProperty('num_ctx');
  });
});
