// The local engine (issue 8, item 4): the extension's own engine host (src/localEngineHost, node-llama-cpp's prebuilt CPU
// binary) run as a child process by the supervisor, driven through the extension's real transport, `generate`, protocol
// decoders and `SpeedMeter`. The tiny generated model has random weights: assertions are about structure and counts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/core/clock';
import { detectContextWindow } from '../../src/core/routing/contextWindow';
import type { EndpointTarget, GenerationRequest, ProtocolId } from '../../src/core/endpoint';
import { BackendError } from '../../src/core/errors';
import { generate } from '../../src/core/stream/generate';
import { EngineSupervisor } from '../../src/core/localEngine/engineSupervisor';
import type { EngineState } from '../../src/core/localEngine/engineSupervisor';
import { launchHost, newEngineKey } from '../../src/core/localEngine/hostLauncher';
import type { HostLaunchOptions, HostProcess } from '../../src/core/localEngine/hostLauncher';
import { ENGINE_KEY_ENV } from '../../src/core/localEngine/hostMessages';
import { LocalEngineError } from '../../src/core/localEngine/localEngineError';
import { LOCAL_ENGINE_BASE_URL, LocalEngineTransport } from '../../src/core/localEngine/localEngineTransport';
import { SpeedMeter } from '../../src/core/stream/meter';
import type { RequestStats } from '../../src/core/requestStats';
import { ManualScheduler } from '../../src/core/scheduler';
import type { StreamEvent } from '../../src/core/streamEvents';
import { countTokens } from '../../src/core/stream/tokenCount';
import { createTransport } from '../../src/core/stream/transport';
import type { Transport } from '../../src/core/stream/transport';
import { QWEN_TOKENS, TINY_MODEL, cacheDir, ensureModel } from './makeGguf';
import { buildLocalEngineHost } from '../unit/builders/localEngineHost';

/** The window the host is asked to serve: below the tiny model's training length, so /v1/models must report this one. */
const CONTEXT_SIZE = 2048;
const IDLE_STOP_MS = 60_000;
const FORCE_EOS = { [String(QWEN_TOKENS.endOfText)]: 8 };
const PREFIX = 'export function fibonacci(n: number): number {\n  if (n < 2) return n;\n  ';

let buildDir = '';
let hostScript = '';
let modelPath = '';
const moduleDir = join(cacheDir(), 'node-llama-cpp');
let transport: Transport;

const clock = new ManualClock();
const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
const launched: HostProcess[] = [];
const states: EngineState[] = [];
let supervisor: EngineSupervisor;
/** The engine's own decode rate from the completion test, tokens/s: the abort test's yardstick. */
let measuredDecodeTokensPerSec = 0;

function launchOptions(overrides: Partial<HostLaunchOptions['args']> = {}): HostLaunchOptions {
  return {
    hostScript,
    args: { modelPath, moduleDir, contextSize: CONTEXT_SIZE, threads: 1, ...overrides },
    startTimeoutMs: 90_000,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return condition();
}

interface Outcome {
  readonly events: StreamEvent[];
  readonly stats: RequestStats;
  readonly error: BackendError | null;
  readonly text: string;
}

/** One generation through the extension's real path, metered as the generation service meters it. */
async function run(
  engine: { readonly baseUrl: string; readonly apiKey: string },
  protocol: ProtocolId,
  request: GenerationRequest,
  options: { signal?: AbortSignal; onEvent?: (event: StreamEvent) => void } = {},
): Promise<Outcome> {
  // The host's server answers only requests with its per-run key (as the extension's LocalEngineTransport adds it).
  const target: EndpointTarget = { baseUrl: `${engine.baseUrl}/v1`, protocol, model: 'local', apiKey: engine.apiKey };
  const meter = new SpeedMeter(systemClock, countTokens);
  const events: StreamEvent[] = [];
  let error: BackendError | null = null;
  meter.start();
  try {
    for await (const event of generate(transport, target, request, { signal: options.signal })) {
      meter.observe(event);
      events.push(event);
      options.onEvent?.(event);
    }
  } catch (caught) {
    if (!(caught instanceof BackendError)) throw caught;
    error = caught;
  }
  const text = events.map((event) => (event.kind === 'text' ? event.text : '')).join('');
  return { events, stats: meter.finish(), error, text };
}

/**
 * The host's token count for an answer capped at `maxTokens`. node-llama-cpp does not stop on a token that ends inside
 * a UTF-8 character: it generates the rest of the character first (up to 3 more byte tokens), and the host reports
 * every token it generated. A random-weights model produces such tokens often, so a cap of 4 can truthfully end at 5.
 * (llama-server stops exactly at n_predict: test/engine/llamaServer.engine.ts checks exact counts.)
 */
function expectCappedAt(outcome: Outcome, maxTokens: number): void {
  expect(outcome.stats.tokensSource).toBe('server');
  expect(outcome.stats.outputTokens).toBeGreaterThanOrEqual(maxTokens);
  expect(outcome.stats.outputTokens).toBeLessThanOrEqual(maxTokens + 3);
}

function finishReasons(outcome: Outcome): string[] {
  return outcome.events.flatMap((event) => (event.kind === 'finish' ? [event.reason] : []));
}

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'latency-copilot-local-engine-'));
  hostScript = join(buildDir, 'localEngineHost.js');
  // The same build entry as esbuild.mjs (node-llama-cpp left external), into a temporary folder.
  await buildLocalEngineHost(hostScript);
  modelPath = (await ensureModel(TINY_MODEL)).path;
  transport = createTransport();
  supervisor = new EngineSupervisor({
    launch: async () => {
      const host = await launchHost(launchOptions());
      launched.push(host);
      return host;
    },
    clock,
    scheduler,
    idleStopMs: IDLE_STOP_MS,
    onStateChange: (state) => states.push(state),
  });
});

afterAll(async () => {
  await supervisor?.dispose();
  for (const host of launched) await host.stop();
  await transport?.close();
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true });
});

describe('local engine (node-llama-cpp in a child process)', () => {
  it('starts on first use: one host for concurrent callers, reports its port, serves /health and the window on /v1/models', async () => {
    expect(supervisor.state()).toBe('stopped');
    const [first, second] = await Promise.all([supervisor.acquire(), supervisor.acquire()]);
    expect(launched).toHaveLength(1);
    expect(first.baseUrl).toBe(second.baseUrl);
    expect(first.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(supervisor.state()).toBe('running');
    const host = launched[0];
    console.log(
      `[engine] local engine pid ${host?.pid ?? '?'} at ${first.baseUrl}, started in ${(host?.loadMs ?? 0).toFixed(0)} ms`,
    );
    expect(first.apiKey).toBe(second.apiKey);
    // Without the per-run key the server answers nothing; with it, everything.
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(401);
    const health = await fetch(`${first.baseUrl}/health`, { headers: { authorization: `Bearer ${first.apiKey}` } });
    expect(health.status).toBe(200);
    const window = await detectContextWindow(transport, {
      target: { baseUrl: `${first.baseUrl}/v1`, protocol: 'openai-chat', model: 'local', apiKey: first.apiKey },
      contextWindow: null,
    });
    expect(window).toMatchObject({ contextWindow: CONTEXT_SIZE, source: 'endpoint' });
    first.release();
    second.release();
  });

  it('streams a chat through generate + meter: role-only chunk skipped, server usage counted, forced EOS stops', async () => {
    const lease = await supervisor.acquire();
    try {
      const outcome = await run(lease, 'openai-chat', {
        messages: [
          { role: 'system', content: 'You complete code.' },
          { role: 'user', content: 'Write a function that adds two numbers.' },
        ],
        maxTokens: 20,
        temperature: 0.8,
      });
      expect(outcome.error).toBeNull();
      expect(finishReasons(outcome)).toEqual(['length']);
      expect(outcome.events[0]?.kind).toBe('text');
      expectCappedAt(outcome, 20);
      expect(outcome.stats.tokensSource).toBe('server');
      expect(outcome.stats.ttftMs).not.toBeNull();
      const usage = outcome.events.find((event) => event.kind === 'usage');
      // System + user turns in ChatML plus the assistant header: more than the bare message text.
      expect(usage?.kind === 'usage' ? (usage.promptTokens ?? 0) : 0).toBeGreaterThan(15);
      expect(outcome.events.some((event) => event.kind === 'timings')).toBe(true);

      const stopped = await run(lease, 'openai-chat', {
        messages: [{ role: 'user', content: 'Say nothing.' }],
        maxTokens: 64,
        extraBody: { logit_bias: FORCE_EOS },
      });
      expect(stopped.error).toBeNull();
      expect(finishReasons(stopped)).toEqual(['stop']);
      expect(stopped.stats.outputTokens ?? 0).toBeLessThan(64);
    } finally {
      lease.release();
    }
  });

  it('streams a completion with server counts and timings; the next prompt with the same start reuses the evaluated prefix', async () => {
    const lease = await supervisor.acquire();
    try {
      const first = await run(lease, 'openai-completions', { prompt: PREFIX, maxTokens: 32 });
      expect(first.error).toBeNull();
      expect(finishReasons(first)).toEqual(['length']);
      expectCappedAt(first, 32);
      expect(first.stats.tokensSource).toBe('server');
      expect(first.text.length).toBeGreaterThan(0);
      expect(first.stats.decodeTokensPerSec ?? 0).toBeGreaterThan(0);
      const second = await run(lease, 'openai-completions', { prompt: `${PREFIX}r`, maxTokens: 4 });
      expect(second.error).toBeNull();
      expect(second.stats.cachedPromptTokens ?? 0).toBeGreaterThan(0);
      measuredDecodeTokensPerSec = first.stats.serverDecodeTokensPerSec ?? 0;
      console.log(
        `[engine] local completion: meter ${(first.stats.decodeTokensPerSec ?? 0).toFixed(1)} tok/s, engine ${(first.stats.serverDecodeTokensPerSec ?? 0).toFixed(1)} tok/s, TTFT ${(first.stats.ttftMs ?? 0).toFixed(1)} ms`,
      );
      const stops = [' ', 'e', 'a', 'n'];
      const stopped = await run(lease, 'openai-completions', { prompt: PREFIX, maxTokens: 200, stop: stops });
      expect(finishReasons(stopped)).toEqual(['stop']);
      for (const stop of stops) expect(stopped.text.includes(stop)).toBe(false);
    } finally {
      lease.release();
    }
  });

  it('fills in the middle: a completion with a suffix runs with the model FIM tokens (prompt holds prefix and suffix)', async () => {
    const lease = await supervisor.acquire();
    try {
      const suffix = '\n}\n\nconsole.log(fibonacci(10));\n';
      const outcome = await run(lease, 'openai-completions', { prompt: PREFIX, suffix, maxTokens: 8 });
      expect(outcome.error).toBeNull();
      expect(finishReasons(outcome)).toEqual(['length']);
      expectCappedAt(outcome, 8);
      const plain = await run(lease, 'openai-completions', { prompt: PREFIX, maxTokens: 1 });
      const promptTokensOf = (events: StreamEvent[]): number =>
        events.flatMap((event) => (event.kind === 'usage' ? [event.promptTokens ?? 0] : []))[0] ?? 0;
      expect(promptTokensOf(outcome.events)).toBeGreaterThan(promptTokensOf(plain.events));
    } finally {
      lease.release();
    }
  });

  it('an abort mid-stream cancels the generation and the next request (queued behind it) is served', async () => {
    const lease = await supervisor.acquire();
    try {
      const controller = new AbortController();
      let textEvents = 0;
      const abortedRun = run(
        lease,
        'openai-completions',
        { prompt: PREFIX, maxTokens: 4000 },
        {
          signal: controller.signal,
          onEvent: (event) => {
            if (event.kind === 'text' && ++textEvents === 5) controller.abort();
          },
        },
      );
      // Sent while the long one runs: one sequence, so it waits in the host's queue until the abort frees it.
      const queued = run(lease, 'openai-chat', { messages: [{ role: 'user', content: 'hi' }], maxTokens: 8 });
      const aborted = await abortedRun;
      expect(aborted.error?.reason).toBe('aborted');
      expect(aborted.error?.partialText).toBe(aborted.text);
      const startedWaiting = performance.now();
      const next = await queued;
      expect(next.error).toBeNull();
      expectCappedAt(next, 8);
      // Uncancelled, the aborted request would run to the window's end (about 2,000 tokens, over 10 s at the tiny
      // model's rate): the queued request was served in well under half that, so the host stopped generating.
      const fullRunMs = ((CONTEXT_SIZE - 64) / Math.max(1, measuredDecodeTokensPerSec)) * 1000;
      const waitedMs = performance.now() - startedWaiting;
      console.log(
        `[engine] local abort: queued request served ${waitedMs.toFixed(0)} ms after the abort (an uncancelled run: about ${fullRunMs.toFixed(0)} ms)`,
      );
      expect(waitedMs).toBeLessThan(fullRunMs / 2);
    } finally {
      lease.release();
    }
  });

  it('stops when idle (no lease for idleStopMs) and starts again on the next use', async () => {
    const host = launched.at(-1);
    expect(host).toBeDefined();
    scheduler.advance(IDLE_STOP_MS - 1);
    expect(supervisor.state()).toBe('running');
    scheduler.advance(1);
    expect(await waitFor(() => supervisor.state() === 'stopped')).toBe(true);
    expect(await waitFor(() => !isAlive(host?.pid ?? -1))).toBe(true);
    const lease = await supervisor.acquire();
    expect(launched).toHaveLength(2);
    const outcome = await run(lease, 'openai-completions', { prompt: PREFIX, maxTokens: 4 });
    expectCappedAt(outcome, 4);
    lease.release();
  });

  it('restarts after a crash (SIGKILL) while a request holds a lease, and the new host serves', async () => {
    const lease = await supervisor.acquire();
    const host = launched.at(-1);
    expect(host).toBeDefined();
    const countBefore = launched.length;
    process.kill(host?.pid ?? -1, 'SIGKILL');
    // A lease is held: the supervisor brings the engine back at once.
    expect(await waitFor(() => launched.length === countBefore + 1 && supervisor.state() === 'running', 60_000)).toBe(
      true,
    );
    lease.release();
    const again = await supervisor.acquire();
    expect(again.baseUrl).not.toBe(lease.baseUrl);
    const outcome = await run(again, 'openai-chat', { messages: [{ role: 'user', content: 'hi' }], maxTokens: 4 });
    expect(outcome.error).toBeNull();
    expectCappedAt(outcome, 4);
    again.release();
    expect(states).toContain('starting');
  });

  it("through the extension's transport: the first POST to the port-0 placeholder starts the engine, GETs never do", async () => {
    const own = new EngineSupervisor({
      launch: async () => {
        const host = await launchHost(launchOptions());
        launched.push(host);
        return host;
      },
      clock,
      scheduler,
      idleStopMs: IDLE_STOP_MS,
    });
    const local = new LocalEngineTransport(transport, own);
    try {
      const probe = await local.request({ url: `${LOCAL_ENGINE_BASE_URL}/models`, method: 'GET', headers: {} });
      probe.dispose();
      expect(probe.status).toBe(503);
      expect(own.state()).toBe('stopped');
      const target: EndpointTarget = { baseUrl: LOCAL_ENGINE_BASE_URL, protocol: 'openai-completions', model: 'local' };
      const events: StreamEvent[] = [];
      for await (const event of generate(local, target, { prompt: PREFIX, suffix: '\n}\n', maxTokens: 6 }))
        events.push(event);
      expect(own.state()).toBe('running');
      const usage = events.filter((event) => event.kind === 'usage');
      expect(usage).toHaveLength(1);
      // At least the cap, plus at most the rest of a UTF-8 character (see expectCappedAt).
      const completionTokens = usage[0]?.kind === 'usage' ? (usage[0].completionTokens ?? 0) : 0;
      expect(completionTokens).toBeGreaterThanOrEqual(6);
      expect(completionTokens).toBeLessThanOrEqual(9);
      const window = await detectContextWindow(local, {
        target: { ...target, protocol: 'openai-chat' },
        contextWindow: null,
      });
      expect(window.contextWindow).toBe(CONTEXT_SIZE);
    } finally {
      await own.dispose();
    }
  });

  it('stops the host on dispose (VS Code closing): the process is gone', async () => {
    const host = launched.at(-1);
    await supervisor.dispose();
    expect(supervisor.state()).toBe('stopped');
    expect(await waitFor(() => !isAlive(host?.pid ?? -1))).toBe(true);
    await expect(supervisor.acquire()).rejects.toBeInstanceOf(LocalEngineError);
  });

  it('the host ends by itself when its parent dies (a crashed or killed VS Code leaves no model in memory)', async () => {
    // A stand-in parent: forks the host, prints its pid once ready, then waits to be killed.
    const parentSource = [
      "const { fork } = require('node:child_process');",
      // The key comes through the environment, as launchHost passes it.
      `const child = fork(${JSON.stringify(hostScript)}, ${JSON.stringify(['--model', modelPath, '--module-dir', moduleDir, '--context', '512', '--threads', '1'])}, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { ...process.env, ${ENGINE_KEY_ENV}: ${JSON.stringify(newEngineKey())} } });`,
      "child.on('message', (m) => { if (m.type === 'ready') console.log(String(child.pid)); });",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const parent = spawn(process.execPath, ['-e', parentSource], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const hostPid = await new Promise<number>((resolve, reject) => {
        parent.stdout.setEncoding('utf8');
        parent.stdout.once('data', (text: string) => resolve(Number(text.trim())));
        parent.once('exit', () => reject(new Error('the stand-in parent exited before the host was ready')));
      });
      expect(isAlive(hostPid)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitFor(() => !isAlive(hostPid))).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a missing model or a missing node-llama-cpp gives one clear error with what to do', async () => {
    const noModel = await launchHost(launchOptions({ modelPath: join(buildDir, 'missing.gguf') })).catch(
      (error: unknown) => error,
    );
    expect(noModel).toBeInstanceOf(LocalEngineError);
    expect(noModel instanceof LocalEngineError ? noModel.reason : null).toBe('model-missing');
    expect(noModel instanceof LocalEngineError ? noModel.message : '').toMatch(
      /latencyCopilot\.localEngine\.modelPath/,
    );
    // The host itself reports a missing module (the model exists): forked, then a `failed` message over IPC.
    const noModule = await launchHost(launchOptions({ moduleDir: buildDir })).catch((error: unknown) => error);
    expect(noModule).toBeInstanceOf(LocalEngineError);
    expect(noModule instanceof LocalEngineError ? noModule.reason : null).toBe('binary-missing');
    expect(noModule instanceof LocalEngineError ? noModule.message : '').toMatch(
      /latencyCopilot\.localEngine\.nodeLlamaCppPath/,
    );
  });
});
