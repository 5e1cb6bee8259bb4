import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import { BackendError } from '../../../../src/core/errors';
import { FimPathProbe } from '../../../../src/core/inline/fimPathProbe';
import { DEFAULT_INLINE_OPTIONS, InlineEngine, optionsUnderBudget } from '../../../../src/core/inline/inlineEngine';
import type { BudgetLimits } from '../../../../src/core/cost/dailyBudget';
import type { InlineDocumentState, InlineEngineOptions } from '../../../../src/core/inline/inlineEngine';
import type { RequestRecord } from '../../../../src/core/requestStats';
import { resolvedEndpoint } from '../../builders/endpoints';
import { ScriptedGenerationService } from '../../builders/scriptedGenerationService';

const endpoint: ResolvedEndpoint = resolvedEndpoint({
  label: 'Test llama.cpp',
  target: { baseUrl: 'https://fast.example', protocol: 'llamacpp-infill', model: 'qwen2.5-coder-1.5b' },
  contextWindow: 8192,
  fim: 'auto',
});

function state(prefix: string, suffix = ''): InlineDocumentState {
  return {
    documentId: 'file:///w/a.ts',
    languageId: 'typescript',
    path: 'a.ts',
    repoName: 'w',
    prefix,
    suffix,
    tabSize: 2,
    snippets: () => [],
  };
}

async function settle(): Promise<void> {
  for (let index = 0; index < 10; index += 1) await new Promise((resolve) => setImmediate(resolve));
}

function setup(
  overrides: Partial<InlineEngineOptions> = {},
  serving: ResolvedEndpoint = endpoint,
  budget?: () => BudgetLimits,
) {
  const clock = new ManualClock(1000);
  const service = new ScriptedGenerationService(serving);
  const logLines: string[] = [];
  const cacheRecords: RequestRecord[] = [];
  const sleeps: number[] = [];
  const engine = new InlineEngine({
    service,
    clock,
    countTokens: (text) => Math.ceil(text.length / 4),
    probe: new FimPathProbe((line) => logLines.push(line)),
    options: () => ({ ...DEFAULT_INLINE_OPTIONS, multiline: 'never', ...overrides }),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    onCacheServed: (record) => cacheRecords.push(record),
    log: (line) => logLines.push(line),
    defer: (task, delayMs) => {
      clock.advance(delayMs);
      queueMicrotask(task);
    },
    ...(budget === undefined ? {} : { budget }),
  });
  return { clock, service, engine, logLines, cacheRecords, sleeps };
}

describe('InlineEngine', () => {
  it('returns the first line as soon as it ends, keeps reading the rest into the cache, and serves typing along it', async () => {
    const { service, engine, cacheRecords } = setup();
    const first = engine.provide(state('function add(a, b) {\n  '), new AbortController().signal);
    await settle();
    expect(service.runs).toHaveLength(1);
    const run = service.runs[0];
    if (!run) throw new Error('no run');
    expect(run.spec.task).toBe('inline');
    expect(run.plan?.target.protocol).toBe('llamacpp-infill');
    run.push('return a');
    await settle();
    run.push(' + b;\n}\n\nexport');
    const shown = await first;
    expect(shown).toMatchObject({ text: 'return a + b;', source: 'network' });
    run.push(' const x = 1;');
    run.end();
    await settle();

    const typed = await engine.provide(state('function add(a, b) {\n  ret'), new AbortController().signal);
    expect(typed).toMatchObject({ text: 'urn a + b;', source: 'cache' });
    const nextLine = await engine.provide(
      state('function add(a, b) {\n  return a + b;\n'),
      new AbortController().signal,
    );
    expect(nextLine).toMatchObject({ text: '}', source: 'cache' });
    expect(service.runs).toHaveLength(1);
    // Typing through the shown suggestion is not a new cache hit; the next line is.
    expect(cacheRecords.map((record) => record.fromCache)).toEqual([true]);
  });

  it('reuses a stream in flight when what was typed matches what it produced', async () => {
    const { service, engine } = setup();
    const cancelled = new AbortController();
    const first = engine.provide(state('const total = '), cancelled.signal);
    await settle();
    const run = service.runs[0];
    if (!run) throw new Error('no run');
    run.push('items.re');
    await settle();
    cancelled.abort();
    expect(await first).toBeNull();
    expect(run.aborted()).toBe(false);

    const second = engine.provide(state('const total = ite'), new AbortController().signal);
    run.push('duce((a, b) => a + b, 0);\n');
    expect(await second).toMatchObject({ text: 'ms.reduce((a, b) => a + b, 0);', source: 'in-flight' });
    expect(service.runs).toHaveLength(1);
    run.end();
  });

  it('aborts a stream that no longer fits what is typed (HTTP/2: free) and starts a new one', async () => {
    const { service, engine } = setup();
    void engine.provide(state('let a = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('fo');
    await settle();
    const second = engine.provide(state('let a = x'), new AbortController().signal);
    await settle();
    expect(service.runs[0]?.aborted()).toBe(true);
    expect(service.runs).toHaveLength(2);
    service.runs[1]?.push(' + 1;\n');
    expect(await second).toMatchObject({ text: ' + 1;', source: 'network' });
  });

  it('moves to the next FIM path on 404, says so in the log, and answers from it in the same call', async () => {
    const { service, engine, logLines } = setup({ speculate: false });
    const pending = engine.provide(state('x = '), new AbortController().signal);
    await settle();
    service.runs[0]?.fail(new BackendError('http', 'not found', { status: 404 }));
    await settle();
    expect(service.runs).toHaveLength(2);
    expect(service.runs[1]?.plan?.target.protocol).toBe('openai-completions');
    expect(logLines.some((line) => line.includes('HTTP 404') && line.includes('"openai-suffix"'))).toBe(true);
    service.runs[1]?.push('42;\n');
    service.runs[1]?.end();
    expect(await pending).toMatchObject({ text: '42;' });
    await settle();
    expect(logLines.some((line) => line.includes('uses FIM path "openai-suffix"'))).toBe(true);
  });

  it('requests the state after acceptance when nothing beyond the shown suggestion is known', async () => {
    const { service, engine } = setup();
    const pending = engine.provide(state('a = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('1;');
    service.runs[0]?.end();
    expect(await pending).toMatchObject({ text: '1;' });
    await settle();
    expect(service.runs).toHaveLength(2);
    const speculative = service.runs[1];
    expect(speculative?.plan?.request.prompt).toBe('a = 1;');
    speculative?.push('\nb = 2;');
    speculative?.end();
    await settle();
    expect(await engine.provide(state('a = 1;'), new AbortController().signal)).toMatchObject({
      text: '\nb = 2;',
      source: 'cache',
    });
  });

  it('skips the speculative request when the person typed past the suggestion before it went out', async () => {
    const clock = new ManualClock();
    const service = new ScriptedGenerationService(endpoint);
    const deferred: (() => void)[] = [];
    const engine = new InlineEngine({
      service,
      clock,
      countTokens: (text) => text.length,
      probe: new FimPathProbe(() => undefined),
      options: () => ({ ...DEFAULT_INLINE_OPTIONS, multiline: 'never' }),
      sleep: async () => undefined,
      defer: (task) => deferred.push(task),
    });
    const pending = engine.provide(state('a = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('1;');
    service.runs[0]?.end();
    await pending;
    await settle();
    // A typo: the person typed something else while the suggestion was on screen.
    const typo = new AbortController();
    void engine.provide(state('a = x'), typo.signal);
    typo.abort();
    await settle();
    const requestsBefore = service.runs.length;
    clock.advance(DEFAULT_INLINE_OPTIONS.speculationDelayMs);
    for (const task of deferred.splice(0)) task();
    await settle();
    expect(service.runs.length).toBe(requestsBefore);
    expect(service.runs.some((run) => run.plan?.request.prompt === 'a = 1;')).toBe(false);
  });

  it('skips the speculative request when rate-limit headroom is low', async () => {
    const clock = new ManualClock();
    const service = new ScriptedGenerationService(endpoint);
    const engine = new InlineEngine({
      service,
      clock,
      countTokens: (text) => text.length,
      probe: new FimPathProbe(() => undefined),
      options: () => ({ ...DEFAULT_INLINE_OPTIONS, multiline: 'never' }),
      sleep: async () => undefined,
      rateLimitLow: () => true,
      defer: (task, delayMs) => {
        clock.advance(delayMs);
        queueMicrotask(task);
      },
    });
    const pending = engine.provide(state('a = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('1;');
    service.runs[0]?.end();
    await pending;
    await settle();
    expect(service.runs).toHaveLength(1);
  });

  it('holds a suggestion until the minimum display delay has passed', async () => {
    const { service, engine, sleeps } = setup({ minDisplayDelayMs: 300, speculate: false });
    const pending = engine.provide(state('a = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('1;\n');
    const shown = await pending;
    expect(sleeps).toEqual([300]);
    expect(shown?.latencyMs).toBe(300);
  });

  it('waits for a typing pause before a network request when the adaptive delay is on, never before a cache hit', async () => {
    const { service, engine, clock, sleeps } = setup({ adaptiveDelay: true, speculate: false });
    // Each keystroke leaves the previous request behind (no stream fits), so each would need a request of its own.
    for (const prefix of ['q', 'w', 'e']) {
      const controller = new AbortController();
      void engine.provide(state(prefix), controller.signal);
      controller.abort();
      clock.advance(120);
    }
    await settle();
    const pending = engine.provide(state('r'), new AbortController().signal);
    await settle();
    expect(sleeps.at(-1)).toBeGreaterThan(0);
    const run = service.runs.at(-1);
    run?.push('tity;\n');
    expect(run?.plan?.request.prompt).toBe('r');
    run?.end();
    await pending;
    const before = sleeps.length;
    expect(await engine.provide(state('rt'), new AbortController().signal)).toMatchObject({ source: 'cache' });
    expect(sleeps.length).toBe(before);
  });

  it('shows a block in multi-line mode once it is complete', async () => {
    const { service, engine } = setup({ multiline: 'always', speculate: false });
    const pending = engine.provide(state('if (ready) {'), new AbortController().signal);
    await settle();
    service.runs[0]?.push('\n  start();\n  go();');
    await settle();
    service.runs[0]?.push('\n}\nnext();');
    expect(await pending).toMatchObject({ text: '\n  start();\n  go();\n}' });
  });
});

describe('InlineEngine: typos', () => {
  it('a typo fixed by backspace is served again by the stream it diverged from, without a request', async () => {
    const { service, engine } = setup({ speculate: false });
    const pending = engine.provide(state('let total = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('sum(values);\nreturn to');
    expect(await pending).toMatchObject({ text: 'sum(values);' });
    const typo = new AbortController();
    void engine.provide(state('let total = sux'), typo.signal);
    typo.abort();
    await settle();
    // The first stream had its line and was ended then; a request went out for the typo.
    expect(engine.counters.completedEarly).toBe(1);
    expect(service.runs.length).toBe(2);
    const requests = service.runs.length;
    expect(await engine.provide(state('let total = su'), new AbortController().signal)).toMatchObject({
      text: 'm(values);',
      source: 'cache',
    });
    expect(service.runs.length).toBe(requests);
  });
});

/** A keystroke the person typed past before anything came back: the provider is called, then cancelled. */
async function keystrokeLeftBehind(engine: InlineEngine, prefix: string): Promise<void> {
  const call = new AbortController();
  void engine.provide(state(prefix), call.signal);
  await settle();
  call.abort();
}

const localHttp: ResolvedEndpoint = {
  ...endpoint,
  id: 'burst#local',
  target: { ...endpoint.target, baseUrl: 'http://127.0.0.1:8080' },
};

describe('InlineEngine: the miss path', () => {
  it('never waits on a stream that has produced no text: the new request goes out at once and the stale one is aborted when it diverges', async () => {
    const { service, engine } = setup({ speculate: false }, localHttp);
    await keystrokeLeftBehind(engine, 'const x');
    // The next keystroke, before the first stream's first token.
    const pending = engine.provide(state('const xy'), new AbortController().signal);
    await settle();
    expect(service.runs).toHaveLength(2);
    expect(engine.counters.racedRequests).toBe(1);
    // The old stream's text does not continue what was typed (`y`): it is aborted as soon as it arrives.
    service.runs[0]?.push(' = 1;');
    await settle();
    expect(service.runs[0]?.aborted()).toBe(true);
    service.runs[1]?.push(' = 2;\n');
    expect(await pending).toMatchObject({ text: ' = 2;', source: 'network' });
  });

  it('shows the older stream when it answers first with text that covers what was typed, and aborts the new request', async () => {
    const { service, engine } = setup({ speculate: false });
    await keystrokeLeftBehind(engine, 'const x');
    const pending = engine.provide(state('const xy'), new AbortController().signal);
    await settle();
    service.runs[0]?.push('y = compute();\n');
    expect(await pending).toMatchObject({ text: ' = compute();', source: 'in-flight' });
    expect(service.runs[1]?.aborted()).toBe(true);
  });

  it('answers a call already cancelled when it arrives at once, even when it would race an older stream', async () => {
    const { service, engine } = setup({ speculate: false });
    await keystrokeLeftBehind(engine, 'const x');
    const cancelled = new AbortController();
    cancelled.abort();
    const answer = engine.provide(state('const xy'), cancelled.signal);
    const settledAt = await Promise.race([answer.then(() => 'answered'), settle().then(() => 'still waiting')]);
    expect(settledAt).toBe('answered');
    expect(await answer).toBeNull();
    expect(service.runs).toHaveLength(2);
  });

  it('keeps at most the newest older stream racing: streams further behind without text are aborted', async () => {
    const { service, engine } = setup({ speculate: false });
    for (const prefix of ['const a', 'const ab', 'const abc']) await keystrokeLeftBehind(engine, prefix);
    expect(service.runs).toHaveLength(3);
    expect(service.runs.map((run) => run.aborted())).toEqual([true, false, false]);
    expect(engine.runningRequests).toBe(2);
  });

  it('aborts a stale stream at once on plain HTTP too (no stream is left to drain)', async () => {
    const { service, engine } = setup({ speculate: false }, localHttp);
    void engine.provide(state('let a = '), new AbortController().signal);
    await settle();
    service.runs[0]?.push('fo');
    await settle();
    void engine.provide(state('let a = x'), new AbortController().signal);
    await settle();
    expect(service.runs[0]?.aborted()).toBe(true);
    expect(engine.counters.abortedStreams).toBe(1);
  });

  it('asks for the rest of a line with a newline stop and a line-sized budget; a new line is asked without the stop', async () => {
    const { service, engine } = setup({ speculate: false });
    void engine.provide(state('const total = items.'), new AbortController().signal);
    await settle();
    const restOfLine = service.runs[0]?.plan?.request;
    expect(restOfLine?.stop).toEqual(['\n']);
    expect(restOfLine?.maxTokens).toBeLessThanOrEqual(48);
    void engine.provide(state('const total = items.length;\nfoo();'), new AbortController().signal);
    await settle();
    const nextLine = service.runs[1]?.plan?.request;
    expect(nextLine?.stop).toBeUndefined();
    expect(nextLine?.maxTokens).toBeLessThanOrEqual(96);
  });

  it('stops reading a server that ignores the stop once the line is whole, and the text it sent still serves', async () => {
    const { service, engine } = setup({ speculate: false });
    const pending = engine.provide(state('const total = items.'), new AbortController().signal);
    await settle();
    const run = service.runs[0];
    run?.push('reduce((a, b) => a + b, 0);');
    await settle();
    run?.push('\nconsole.log(total);\nreturn total;');
    expect(await pending).toMatchObject({ text: 'reduce((a, b) => a + b, 0);' });
    await settle();
    expect(run?.stoppedReading).toBe(true);
    expect(engine.counters.completedEarly).toBe(1);
    expect(engine.runningRequests).toBe(0);
    // Typing along what it sent is still served, with no request.
    expect(await engine.provide(state('const total = items.red'), new AbortController().signal)).toMatchObject({
      text: 'uce((a, b) => a + b, 0);',
      source: 'cache',
    });
    expect(service.runs).toHaveLength(1);
  });

  it('cuts off a server that ignores the token cap at its own character budget', async () => {
    const { service, engine } = setup({ speculate: false, multiline: 'always' });
    void engine.provide(state('function f() {'), new AbortController().signal);
    await settle();
    const run = service.runs[0];
    const cap = run?.plan?.request.maxTokens ?? 0;
    expect(cap).toBeGreaterThan(0);
    // One endless line: never a whole block, so only the budget can stop it.
    for (let index = 0; index < 200 && run?.stoppedReading !== true; index += 1) {
      run?.push('x'.repeat(64));
      await settle();
    }
    expect(run?.stoppedReading).toBe(true);
    expect(engine.runningRequests).toBe(0);
  });

  it('stops racing on a server seen to run one request at a time: the older stream is aborted before the new request', async () => {
    const { service, engine } = setup({ speculate: false }, localHttp);
    // Teach it: a request alone answers in 150 ms; one started beside another waits for it (400 ms).
    const solo = engine.provide(state('a'), new AbortController().signal);
    await settle();
    service.runs[0]?.push('bc;\n');
    service.runs[0]?.end();
    await solo;
    await settle();
    for (let round = 0; round < 2; round += 1) {
      await keystrokeLeftBehind(engine, `q${round}`);
      const newer = engine.provide(state(`q${round}z`), new AbortController().signal);
      await settle();
      const run = service.runs.at(-1);
      if (run === undefined) throw new Error('no run');
      run.ttftMs = 400;
      run.push(' = 1;\n');
      run.end();
      await newer;
      await settle();
    }
    const racedBefore = engine.counters.racedRequests;
    await keystrokeLeftBehind(engine, 'w');
    void engine.provide(state('wz'), new AbortController().signal);
    await settle();
    expect(engine.counters.racedRequests).toBe(racedBefore);
    expect(service.runs.at(-2)?.aborted()).toBe(true);
  });

  describe('under the daily budget', () => {
    it('turns speculation off from no-speculation on and forces the typing pause from typing-pause on', () => {
      const options = { ...DEFAULT_INLINE_OPTIONS, speculate: true, adaptiveDelay: false };
      expect(optionsUnderBudget(options, 'normal')).toBe(options);
      expect(optionsUnderBudget(options, 'no-speculation')).toMatchObject({ speculate: false, adaptiveDelay: false });
      expect(optionsUnderBudget(options, 'typing-pause')).toMatchObject({ speculate: false, adaptiveDelay: true });
      expect(optionsUnderBudget(options, 'cheapest')).toMatchObject({ speculate: false, adaptiveDelay: true });
    });

    it('sends no speculative request once speculation is held back', async () => {
      const { service, engine } = setup({}, endpoint, () => ({ stage: 'no-speculation', endpointIds: null }));
      const pending = engine.provide(state('a = '), new AbortController().signal);
      await settle();
      service.runs[0]?.push('1;');
      service.runs[0]?.end();
      expect(await pending).toMatchObject({ text: '1;' });
      await settle();
      expect(service.runs).toHaveLength(1);
      expect(engine.counters.speculativeRequests).toBe(0);
    });

    it('drops a speculative request whose stage was reached while its suggestion was on screen', async () => {
      let limits: BudgetLimits = { stage: 'normal', endpointIds: null };
      const { service, engine } = setup({}, endpoint, () => limits);
      const pending = engine.provide(state('a = '), new AbortController().signal);
      await settle();
      service.runs[0]?.push('1;');
      limits = { stage: 'no-speculation', endpointIds: null };
      service.runs[0]?.end();
      await pending;
      await settle();
      expect(service.runs).toHaveLength(1);
    });

    it('waits for a typing pause at typing-pause although the adaptive delay setting is off', async () => {
      const { service, engine, clock, sleeps } = setup({ adaptiveDelay: false }, endpoint, () => ({
        stage: 'typing-pause',
        endpointIds: null,
      }));
      for (const prefix of ['q', 'w', 'e']) {
        const controller = new AbortController();
        void engine.provide(state(prefix), controller.signal);
        controller.abort();
        clock.advance(120);
      }
      await settle();
      void engine.provide(state('r'), new AbortController().signal);
      await settle();
      expect(sleeps.at(-1)).toBeGreaterThan(0);
      expect(service.runs.at(-1)?.plan?.request.prompt).toBe('r');
    });

    it('sends inline requests only to the allowed backend at cheapest, and anywhere before', async () => {
      let limits: BudgetLimits = { stage: 'typing-pause', endpointIds: null };
      const { service, engine } = setup({ speculate: false }, endpoint, () => limits);
      void engine.provide(state('a = '), new AbortController().signal);
      await settle();
      expect(service.runs[0]?.spec.endpointIds).toBeUndefined();
      limits = { stage: 'cheapest', endpointIds: ['burst#1'] };
      void engine.provide(state('b = '), new AbortController().signal);
      await settle();
      expect(service.runs.at(-1)?.spec.endpointIds).toEqual(['burst#1']);
    });
  });
});
