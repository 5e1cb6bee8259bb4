// Inline-completion latency benchmark (issue 4). Replays typing of real source files that this project did not write
// (node_modules/undici/lib/...) keystroke by keystroke at human intervals, with pauses and backspaces, against the
// simulator (TTFT 150 ms, 1,000 tokens/s, completions = the file's true continuation, wrong after a few lines some of
// the time), applying VS Code's rules: the provider is called 50 ms after the last keystroke, every edit cancels the
// running call, and a shown suggestion stays while what is typed matches it. Real timers, real HTTP, real simulator.
//
// Then the miss path (issue 13): 8-key bursts (Enter, `const x`) at ends of statement lines against a simulator whose
// continuation never matches what is typed next, with unlimited server slots and with one slot (a local llama.cpp).
//
// Both paths also say what the requests would cost at a reference price (a preset's published prices, named in the
// output): per 100 keystrokes, and the share spent on requests that showed nothing.
//
// Usage: npm run --silent bench:inline -- [--json] [--seed N] [--keystrokes N] [--path hit|miss|both]
//        (about 3.5 minutes for the hit path with the default 1,200 keystrokes, 1 minute for the miss path)
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock';
import { findPreset } from '../core/config/presets';
import { requestCost, sumCosts } from '../core/cost/requestCost';
import type { ResolvedEndpoint } from '../core/endpoint';
import type { GenerationService, GenerationSpec, StatsSink } from '../core/generation/generationService';
import type { TokenPrices } from '../core/price';
import type { RequestRecord } from '../core/requestStats';
import { roughTokenCount } from '../core/stream/meter';
import { RateLimitBook } from '../core/routing/rateLimitHeadroom';
import { RoutedGenerationService } from '../core/generation/routedGenerationService';
import { systemScheduler } from '../core/scheduler';
import { percentileOfSorted, StatsHub } from '../core/speed/statsHub';
import { FimPathProbe } from '../core/inline/fimPathProbe';
import { DEFAULT_INLINE_OPTIONS, InlineEngine } from '../core/inline/inlineEngine';
import type { InlineDocumentState, InlineSuggestion } from '../core/inline/inlineEngine';
import { countTokens } from '../core/stream/tokenCount';
import { createTransport } from '../core/stream/transport';
import { startSimulator } from '../sim/simulator';
import {
  benchStreamTag,
  forkSimulatorChild,
  servedGenerations,
  serveSimulatorChild,
  type SimulatorChild,
} from './simulatorChild';
import type { SimCompletionRequest } from '../sim/simOptions';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
function numberArg(name: string, fallback: number): number {
  const at = args.indexOf(name);
  const value = at === -1 ? Number.NaN : Number(args[at + 1]);
  return Number.isFinite(value) ? value : fallback;
}

const SEED = numberArg('--seed', 42);
const KEYSTROKE_BUDGET = numberArg('--keystrokes', 1200);
const PROVIDER_DELAY_MS = 50; // VS Code's fixed wait before calling an inline completion provider.
const SERVER_TTFT_MS = 150;
const SERVER_TOKENS_PER_SEC = 1000;
const WRONG_SHARE = 0.35; // Share of completions that go wrong after a few lines.
const WARMUP_REQUESTS = 30;
const PAUSE_MS = 300; // A gap this long lets a suggestion appear (50 ms + 150 ms TTFT + the first line): it is a pause.

// A small deterministic generator (LCG), so that runs with the same seed type the same way.
let randomState = SEED >>> 0;
function random(): number {
  randomState = (Math.imul(randomState, 1664525) + 1013904223) >>> 0;
  return randomState / 4294967296;
}

interface Segment {
  readonly file: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const SOURCE_FILES = [
  'node_modules/undici/lib/api/api-request.js',
  'node_modules/undici/lib/core/util.js',
  'node_modules/undici/lib/dispatcher/pool-base.js',
  'node_modules/undici/lib/handler/retry-handler.js',
  'node_modules/eventsource-parser/dist/index.js',
];

/** The source files that are present (run from the repository root), with their text. */
function readSources(): { readonly file: string; readonly text: string }[] {
  return SOURCE_FILES.flatMap((file) => {
    try {
      return [{ file, text: readFileSync(join(process.cwd(), file), 'utf8') }];
    } catch {
      return [];
    }
  });
}

/** Picks segments of 3-5 lines from function bodies (indented lines), two per file at most, about `KEYSTROKE_BUDGET` keys in all. */
function pickSegments(): Segment[] {
  const segments: Segment[] = [];
  let chars = 0;
  const sources = readSources();
  for (let round = 0; round < 3 && chars < KEYSTROKE_BUDGET; round += 1)
    for (const { file, text } of sources) {
      if (chars >= KEYSTROKE_BUDGET) break;
      const lineStarts: number[] = [0];
      for (let index = 0; index < text.length; index += 1)
        if (text.charCodeAt(index) === 10) lineStarts.push(index + 1);
      for (let attempt = 0, found = 0; attempt < 50 && found < 1; attempt += 1) {
        const line = Math.floor(lineStarts.length * (0.2 + 0.6 * random()));
        const count = 3 + Math.floor(random() * 3);
        const start = lineStarts[line];
        const end = lineStarts[line + count];
        if (start === undefined || end === undefined) continue;
        const body = text.slice(start, end);
        const lines = body.split('\n').filter((l) => l.trim().length > 0);
        if (lines.length < 3 || !lines.every((l) => /^\s+\S/.test(l)) || body.length > 200 || body.length < 60)
          continue;
        if (segments.some((other) => other.file === file && other.start < end && start < other.end)) continue;
        segments.push({ file, text, start, end });
        chars += body.replace(/\n[ \t]*/g, '\n').length;
        found += 1;
      }
    }
  return segments;
}

/** One edit the typist makes: text inserted (or a backspace) after a wait. */
type Keystroke =
  { readonly waitMs: number; readonly insert: string } | { readonly waitMs: number; readonly backspace: true };

/** Human typing: ~110 ms between keys (45-300), Enter brings the next line's indentation, typos fixed by backspace, pauses. */
function typingPlan(segment: string): Keystroke[] {
  const keys: Keystroke[] = [];
  const gap = () => Math.round(Math.min(300, Math.max(45, 110 * Math.exp(0.35 * (random() * 2 - 1) * 1.7))));
  let index = 0;
  while (index < segment.length) {
    const char = segment.charAt(index);
    if (char === '\n') {
      const indent = /^[ \t]*/.exec(segment.slice(index + 1))?.[0] ?? '';
      const thinking = random() < 0.35;
      keys.push({ waitMs: thinking ? 500 + Math.round(random() * 700) : gap(), insert: `\n${indent}` });
      index += 1 + indent.length;
      continue;
    }
    if (random() < 0.03 && /[a-z]/i.test(char)) {
      keys.push({ waitMs: gap(), insert: char === 'x' ? 'q' : 'x' });
      keys.push({ waitMs: 250 + Math.round(random() * 150), backspace: true });
    }
    const pause = random() < 0.02;
    keys.push({ waitMs: pause ? 500 + Math.round(random() * 700) : gap(), insert: char });
    index += 1;
  }
  return keys;
}

/**
 * What each connection was opened for, from undici's diagnostics channels: the first request sent on a new socket is a
 * warm-up GET (a spare opened in the background, off every request's path) or a completion POST (a request that
 * waited for the connect). Only the second kind costs a keystroke anything.
 */
function watchConnections(): { opened(sinceMs: number): { forRequests: number; spares: number } } {
  const connectedAt = new Map<unknown, number>();
  const firstUse: { atMs: number; forRequest: boolean }[] = [];
  const socketOf = (message: unknown): unknown =>
    typeof message === 'object' && message !== null && 'socket' in message ? message.socket : undefined;
  const methodOf = (message: unknown): string | undefined => {
    if (typeof message !== 'object' || message === null || !('request' in message)) return undefined;
    const request = message.request;
    return typeof request === 'object' && request !== null && 'method' in request && typeof request.method === 'string'
      ? request.method
      : undefined;
  };
  subscribe('undici:client:connected', (message) => {
    const socket = socketOf(message);
    if (socket !== undefined) connectedAt.set(socket, performance.now());
  });
  subscribe('undici:client:sendHeaders', (message) => {
    const socket = socketOf(message);
    const atMs = connectedAt.get(socket);
    if (atMs === undefined) return;
    connectedAt.delete(socket);
    firstUse.push({ atMs, forRequest: methodOf(message) === 'POST' });
  });
  return {
    opened(sinceMs) {
      const recent = firstUse.filter((use) => use.atMs >= sinceMs);
      const forRequests = recent.filter((use) => use.forRequest).length;
      return { forRequests, spares: recent.length - forRequests };
    },
  };
}

/** Nearest-rank percentile of `values` (any order), rounded for the report. */
function percentile(values: readonly number[], q: number): number | null {
  const value = percentileOfSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
  return value === null ? null : round(value);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The current document of the replay: one segment being typed into its file. */
/** The current document of the replay: one segment being typed into its file. */
interface Session {
  readonly id: string;
  readonly segment: Segment;
  typed: string;
}

/** What the simulator child reports about one generation request. */
interface ServedRequest {
  readonly tag: number;
  readonly tokensWritten: number;
  readonly textWritten: string;
  readonly clientDisconnected: boolean;
  /** Server-side TTFT: first token written - request arrived, in ms. */
  readonly serverTtftMs: number | null;
  /** When the request arrived, as `performance.timeOrigin + performance.now()` (comparable across processes), in ms. */
  readonly arrivalEpochMs: number;
  /** When the first token was written, same clock; null when none was. */
  readonly firstTokenEpochMs: number | null;
  /** How long it waited for a free slot (a server with `--slots`); null when it never held one. */
  readonly slotWaitMs: number | null;
}

interface ChildReport {
  readonly requests: readonly ServedRequest[];
  readonly connections: number;
}

/**
 * The miss path's answer: plausible code (`const xValue = ...` after `const x`) whose first character is never the key
 * typed next in a burst (Enter, then `const x`).
 */
const MISS_TEXT = 'Value = computeTotal(options);\n  return result;\n';

const GARBAGE =
  '  const result = await fetchData(options)\n  if (!result.ok) return null\n  return transform(result.body)\n';

/**
 * The simulated model, run in a child process like a real server (so that its tokenizing and pacing never share the
 * extension's event loop): the file's true continuation after the prompt's prefix, wrong after 1-3 lines some of the time.
 */
async function runSimulatorChild(): Promise<void> {
  const files = readSources().map((source) => source.text);
  const completionFor = (request: SimCompletionRequest): string => {
    // The miss path: plausible code whose first character is never what the typist types next.
    if (request.body['bench_miss'] === true) return MISS_TEXT;
    for (const text of files) {
      const at = text.indexOf(request.prefix);
      if (at === -1 || request.prefix.length === 0) continue;
      const truth = text.slice(at + request.prefix.length, at + request.prefix.length + 3000);
      if (random() >= WRONG_SHARE) return truth;
      let cut = 0;
      const rightLines = 1 + Math.floor(random() * 3);
      for (let line = 0; line < rightLines; line += 1) {
        const next = truth.indexOf('\n', cut);
        if (next === -1) return truth;
        cut = next + 1;
      }
      return truth.slice(0, cut) + GARBAGE;
    }
    return GARBAGE;
  };
  const slots = numberArg('--slots', 0);
  const sim = await startSimulator({
    ttftMs: SERVER_TTFT_MS,
    tokensPerSec: SERVER_TOKENS_PER_SEC,
    roleChunk: true,
    sendUsage: true,
    completionFor,
    contextWindow: 32_768,
    requestLogLimit: 100_000,
    slots: slots >= 1 ? slots : null,
  });
  serveSimulatorChild(sim, () => {
    const requests: ServedRequest[] = servedGenerations(sim).map((request) => {
      const serverTtftMs = request.firstTokenMs === null ? null : request.firstTokenMs - request.arrivalMs;
      const firstTokenEpochMs = request.firstTokenMs === null ? null : performance.timeOrigin + request.firstTokenMs;
      return {
        tag: benchStreamTag(request.body),
        tokensWritten: request.tokensWritten,
        textWritten: request.textWritten,
        clientDisconnected: request.clientDisconnected,
        serverTtftMs,
        arrivalEpochMs: performance.timeOrigin + request.arrivalMs,
        firstTokenEpochMs,
        slotWaitMs: request.slotWaitMs,
      };
    });
    const report: ChildReport = { requests, connections: sim.connections };
    return { report };
  });
}

/** Starts the simulator child and waits for its base URL. */
function startSimulatorChild(slots: number | null = null): Promise<SimulatorChild<ChildReport>> {
  return forkSimulatorChild(
    __filename,
    ['--sim-child', '--seed', String(SEED), ...(slots === null ? [] : ['--slots', String(slots)])],
    (message) => (isChildReport(message['report']) ? message['report'] : null),
  );
}

function isChildReport(value: unknown): value is ChildReport {
  return (
    typeof value === 'object' &&
    value !== null &&
    'requests' in value &&
    Array.isArray(value.requests) &&
    'connections' in value &&
    typeof value.connections === 'number'
  );
}

/**
 * The price the cost figures use: the preset whose published prices are read from the provider's own page and that
 * serves a model of the size people use for completions (Fireworks, gpt-oss-120b). The simulated backend itself is
 * free; this says what the same requests would cost there.
 */
const REFERENCE_PRESET = 'fireworks';

function referencePrice(): {
  readonly preset: string;
  readonly model: string | null;
  readonly readOn: string | null;
  readonly prices: TokenPrices;
} {
  const preset = findPreset(REFERENCE_PRESET);
  if (preset === undefined || preset.price.kind !== 'priced')
    throw new Error(`the reference preset "${REFERENCE_PRESET}" has no published price`);
  return { preset: preset.id, model: preset.defaultModel, readOn: preset.price.readOn, prices: preset.price.prices };
}

/** Three significant figures: costs per request are fractions of a cent. */
function significant(value: number): number {
  return Number(value.toPrecision(3));
}

/**
 * What the requests (every attempt recorded, a hedge's loser too) cost at the reference price: per 100 keystrokes, and
 * the share spent on requests that showed nothing (`showedSomething` says, by stream tag, which ones did; an attempt
 * no tag names, such as a hedge's loser, showed nothing).
 */
function costFigures(
  records: readonly RequestRecord[],
  recordsByStream: ReadonlyMap<number, RequestRecord>,
  showedSomething: (tag: number) => boolean,
  keystrokes: number,
) {
  const reference = referencePrice();
  const price = { kind: 'priced', prices: reference.prices, source: 'preset', readOn: reference.readOn } as const;
  const useful = new Set<RequestRecord>();
  for (const [tag, record] of recordsByStream) if (showedSomething(tag)) useful.add(record);
  const costs = records.map((record) => ({ record, cost: requestCost(record, price) }));
  const total = sumCosts(costs.map(({ cost }) => cost));
  const wasted = sumCosts(costs.filter(({ record }) => !useful.has(record)).map(({ cost }) => cost));
  const estimated = sumCosts(costs.filter(({ cost }) => cost.estimated).map(({ cost }) => cost));
  const totalUsd = total.usd ?? 0;
  return {
    costPer100Keystrokes: significant((totalUsd / Math.max(1, keystrokes)) * 100),
    wastedCostShare: totalUsd === 0 ? null : round((wasted.usd ?? 0) / totalUsd),
    costUsd: significant(totalUsd),
    // Share of the cost resting on estimated counts (no server usage, or an attempt that ended before it was counted).
    estimatedCostShare: totalUsd === 0 ? null : round((estimated.usd ?? 0) / totalUsd),
    requestsCosted: records.length,
    referencePrice: {
      preset: reference.preset,
      model: reference.model,
      readOn: reference.readOn,
      usdPerMillion: {
        input: reference.prices.inputPerMillion,
        cachedInput: reference.prices.cachedInputPerMillion,
        output: reference.prices.outputPerMillion,
      },
    },
  };
}

/** One suggestion that appeared as ghost text (not kept by typing through). */
interface ShownRow {
  readonly source: InlineSuggestion['source'];
  readonly streamId: number;
  readonly keyAtMs: number;
  readonly calledAtMs: number;
  readonly shownAtMs: number;
  readonly streamStartedAtMs: number;
  readonly generatedText: string;
}

async function main(): Promise<void> {
  if (args.includes('--sim-child')) {
    await runSimulatorChild();
    return;
  }
  const paths = args.includes('--path') ? [args[args.indexOf('--path') + 1] ?? 'both'] : ['both'];
  const path = paths[0];
  if (path !== 'hit' && path !== 'miss' && path !== 'both') throw new Error('--path takes hit, miss or both');
  // The tokenizer's ranks load on first use (in the extension: right after activation, off the typing path).
  countTokens('warm up the tokenizer');
  const hitPath = path === 'miss' ? null : await runHitPath();
  const missPath =
    path === 'hit'
      ? null
      : {
          unlimitedSlots: await runMissPath(null),
          oneSlot: await runMissPath(1),
          loadAverage1m: round(loadavg()[0] ?? 0),
        };
  const result = { hitPath, missPath };
  process.stdout.write(asJson ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
}

/** The extension's inline pieces as src/extension.ts composes them, against one simulator. */
async function composeExtension(baseUrl: string, miss: boolean) {
  const sim = { baseUrl };
  const transport = createTransport();
  const endpoint: ResolvedEndpoint = {
    id: 'burst#0',
    role: 'burst',
    label: 'Simulated llama.cpp (benchmark)',
    preset: 'llamacpp',
    target: { baseUrl: sim.baseUrl, protocol: 'llamacpp-infill', model: 'qwen2.5-coder-sim' },
    contextWindow: 32_768,
    fim: 'auto',
    simulated: true,
    predictedOutputs: false,
    price: { kind: 'free', why: 'simulated' },
  };
  // The same pieces the extension composes: the routed service (router, health, hedging timers, first-token timeout)
  // reporting into a stats hub (the status bar's and the panel's source), with rate-limit headroom fed from headers.
  const hub = new StatsHub({ clock: systemClock, scheduler: systemScheduler, endpoints: () => [endpoint] });
  // Every finished attempt, for the cost figures: all of them, and each tagged stream's own record by its tag.
  const attemptRecords: RequestRecord[] = [];
  const recordsByStream = new Map<number, RequestRecord>();
  const sink: StatsSink = {
    requestStarted: (view) => hub.requestStarted(view),
    requestFinished: (id, record) => {
      attemptRecords.push(record);
      hub.requestFinished(id, record);
    },
    cacheServed: (record) => hub.cacheServed(record),
  };
  const rateLimits = new RateLimitBook();
  const routed = new RoutedGenerationService({
    // As in the extension: every prompt passes the key check (one key known, as with one configured backend).
    knownSecrets: () => ['bench-api-key-0123456789abcdef'],
    transport,
    clock: systemClock,
    endpoints: (role) => (role === 'burst' ? [endpoint] : []),
    sink,
    countTokens,
    onResponseHeaders: (chosen, headers) => rateLimits.record(chosen.id, headers),
  });
  // Tags each request with its sequence number (= the engine's stream id) so that server tokens can be matched to what was shown.
  let sequence = 0;
  const arrivalsByStream = new Map<number, { chars: number; atMs: number }[]>();
  const startedAtByStream = new Map<number, number>();
  const promptTokensByStream = new Map<number, number>();
  const service: GenerationService = {
    start(spec: GenerationSpec) {
      sequence += 1;
      const tag = sequence;
      const arrivals: { chars: number; atMs: number }[] = [];
      arrivalsByStream.set(tag, arrivals);
      startedAtByStream.set(tag, performance.now());
      promptTokensByStream.set(tag, spec.promptTokens);
      const run = routed.start({
        ...spec,
        build: (chosen) => {
          const plan = spec.build(chosen);
          return {
            ...plan,
            request: {
              ...plan.request,
              extraBody: { ...plan.request.extraBody, bench_stream: tag, ...(miss ? { bench_miss: true } : {}) },
            },
          };
        },
      });
      void run.finished.then((record) => {
        if (record !== null) recordsByStream.set(tag, record);
      });
      // Stamps each text event as it leaves the generation service, i.e. when the engine could first use it.
      let chars = 0;
      async function* stamped() {
        for await (const event of run.events) {
          if (event.kind === 'text') {
            chars += event.text.length;
            arrivals.push({ chars, atMs: performance.now() });
          }
          yield event;
        }
      }
      return { ...run, events: stamped() };
    },
  };
  const probeLog: string[] = [];
  // As src/extension.ts composes it: windows sized with the rough count (cl100k is for the meter and the router).
  const engine = new InlineEngine({
    service,
    clock: systemClock,
    countTokens: roughTokenCount,
    rateLimitLow: (endpointId) => rateLimits.isLow(endpointId),
    probe: new FimPathProbe((line) => probeLog.push(line)),
    options: () => DEFAULT_INLINE_OPTIONS,
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  });

  await transport.warm(`${sim.baseUrl}/health`);
  // Warm-up, not measured: a few requests through the same service, so that the numbers describe a running extension
  // (JIT-compiled request path, open connections) rather than the first request after start-up.
  for (let round = 0; round < WARMUP_REQUESTS; round += 1) {
    const run = routed.start({
      task: 'inline',
      signal: new AbortController().signal,
      promptTokens: 10,
      maxOutputTokens: 8,
      build: (chosen) => ({ target: chosen.target, request: { prompt: `warm-up ${round}`, suffix: '', maxTokens: 8 } }),
    });
    for await (const event of run.events) void event;
  }
  // The warm-up is not what typing costs.
  attemptRecords.length = 0;
  return {
    transport,
    engine,
    arrivalsByStream,
    startedAtByStream,
    promptTokensByStream,
    probeLog,
    attemptRecords,
    recordsByStream,
  };
}

/**
 * The hit path: typing real source files against a simulator that answers with the file's true continuation (wrong
 * after a few lines some of the time), so that in-flight reuse and the cache mostly pay off.
 */
async function runHitPath() {
  const connectionUse = watchConnections();
  const sim = await startSimulatorChild();
  const { transport, engine, arrivalsByStream, startedAtByStream, probeLog, attemptRecords, recordsByStream } =
    await composeExtension(sim.baseUrl, false);
  const segments = pickSegments();
  const rows: ShownRow[] = [];
  let typedThrough = 0;
  let keystrokes = 0;
  let pauses = 0;
  // Connections opened so far, after each keystroke: the first half of the run is the pool growing to what it needs.
  const connectionsByKeystroke: number[] = [];
  const keyTimes: number[] = [];
  const startedAt = performance.now();

  for (const [segmentIndex, segment] of segments.entries()) {
    const session: Session = { id: `file:///bench/${segmentIndex}/${segment.file}`, segment, typed: '' };
    const plan = typingPlan(segment.text.slice(segment.start, segment.end));
    // Every gap long enough for a suggestion to appear is a pause; so is the end of each file's typing.
    pauses += plan.filter((key) => key.waitMs >= PAUSE_MS).length + 1;
    // What VS Code shows; set from the provider's answers, which arrive in callbacks.
    const screen: { ghost: string | null } = { ghost: null };
    let pendingCall: AbortController | null = null;
    let callTimer: NodeJS.Timeout | null = null;
    const suffix = segment.text.slice(segment.end);
    const path = segment.file.replace(/^node_modules\//, '');

    for (const key of plan) {
      await sleep(key.waitMs);
      const keyAtMs = performance.now();
      // The edit: VS Code cancels the running provider call and keeps the ghost text only while typing matches it.
      pendingCall?.abort();
      if (callTimer !== null) clearTimeout(callTimer);
      let keptGhost = false;
      if ('insert' in key) {
        session.typed += key.insert;
        const ghost = screen.ghost;
        if (ghost !== null && ghost.startsWith(key.insert) && ghost.length > key.insert.length) {
          screen.ghost = ghost.slice(key.insert.length);
          keptGhost = true;
        } else screen.ghost = null;
      } else {
        session.typed = session.typed.slice(0, -1);
        screen.ghost = null;
      }
      keystrokes += 1;
      connectionsByKeystroke.push(transport.connectionsOpened);
      keyTimes.push(keyAtMs);
      if (keptGhost) typedThrough += 1;
      const controller = new AbortController();
      pendingCall = controller;
      const prefix = segment.text.slice(0, segment.start) + session.typed;
      const state: InlineDocumentState = {
        documentId: session.id,
        languageId: 'javascript',
        path,
        repoName: 'undici',
        prefix,
        suffix,
        tabSize: 2,
        snippets: () => [],
      };
      callTimer = setTimeout(() => {
        const calledAtMs = performance.now();
        void engine.provide(state, controller.signal).then((suggestion: InlineSuggestion | null) => {
          if (suggestion === null || controller.signal.aborted) return;
          const shownAtMs = performance.now();
          screen.ghost = suggestion.text;
          if (keptGhost) return;
          rows.push({
            source: suggestion.source,
            streamId: suggestion.streamId,
            keyAtMs,
            calledAtMs,
            shownAtMs,
            streamStartedAtMs: suggestion.streamStartedAtMs,
            generatedText: suggestion.generatedText,
          });
        });
      }, PROVIDER_DELAY_MS);
    }
    // Let the last suggestion arrive and the streams finish before the next file.
    await sleep(400);
    pendingCall?.abort();
  }
  const typingMs = performance.now() - startedAt;
  await sleep(500);
  const report = await sim.report();
  // Warm-up requests carry no tag.
  const measured = report.requests.filter((request) => request.tag !== -1);
  const byTag = new Map(measured.map((request) => [request.tag, request]));

  // Added latency: the provider call's duration minus what the server needed (its own TTFT + 1 ms per token at
  // 1,000 tokens/s up to the text the suggestion needed), counted from the stream's start; cache hits need nothing.
  const added: number[] = [];
  // What the engine itself spends: from the moment the text a suggestion needed reached it to the provider's answer.
  const afterData: number[] = [];
  // Where the rest of a network suggestion's time went: request start -> server arrival, and the needed token's
  // scheduled write time -> the engine seeing it (loopback, kernel, event-loop scheduling on a loaded machine).
  const sendMs: number[] = [];
  const beforeRequest: number[] = [];
  const deliveryMs: number[] = [];
  const addedBySource: Record<InlineSuggestion['source'], number[]> = { cache: [], 'in-flight': [], network: [] };
  const shownEndByStream = new Map<number, number>();
  for (const row of rows) {
    const providerMs = row.shownAtMs - row.calledAtMs;
    let floorMs = 0;
    if (row.source !== 'cache') {
      const neededTokens = Math.max(1, countTokens(row.generatedText));
      const serverTtft = byTag.get(row.streamId)?.serverTtftMs ?? SERVER_TTFT_MS;
      const dueMs = row.streamStartedAtMs + serverTtft + ((neededTokens - 1) * 1000) / SERVER_TOKENS_PER_SEC;
      floorMs = Math.max(0, dueMs - row.calledAtMs);
    }
    added.push(providerMs - floorMs);
    if (row.source !== 'cache') {
      const arrival = arrivalsByStream.get(row.streamId)?.find((stamp) => stamp.chars >= row.generatedText.length);
      if (arrival !== undefined) afterData.push(row.shownAtMs - Math.max(arrival.atMs, row.calledAtMs));
      const served = byTag.get(row.streamId);
      if (served !== undefined) {
        if (row.source === 'network')
          sendMs.push(served.arrivalEpochMs - (performance.timeOrigin + row.streamStartedAtMs));
        const startCalledAt = startedAtByStream.get(row.streamId);
        if (row.source === 'network' && startCalledAt !== undefined) beforeRequest.push(startCalledAt - row.calledAtMs);
        if (arrival !== undefined && served.firstTokenEpochMs !== null) {
          const neededTokens = Math.max(1, countTokens(row.generatedText));
          const scheduled = served.firstTokenEpochMs + ((neededTokens - 1) * 1000) / SERVER_TOKENS_PER_SEC;
          deliveryMs.push(performance.timeOrigin + arrival.atMs - scheduled);
          if (process.env['BENCH_INLINE_DEBUG'] !== undefined) {
            const origin = performance.timeOrigin;
            process.stderr.write(
              `${JSON.stringify({ source: row.source, stream: row.streamId, neededTokens, calledAfterStart: round(row.calledAtMs - row.streamStartedAtMs), serverArrivalAfterStart: round(served.arrivalEpochMs - origin - row.streamStartedAtMs), firstTokenAfterStart: round(served.firstTokenEpochMs - origin - row.streamStartedAtMs), neededArrivedAfterStart: round(arrival.atMs - row.streamStartedAtMs), shownAfterStart: round(row.shownAtMs - row.streamStartedAtMs), floorMs: round(floorMs), chars: row.generatedText.length })}\n`,
            );
          }
        }
      }
    }
    if (process.env['BENCH_INLINE_DEBUG'] !== undefined && row.source !== 'cache') {
      process.stderr.write(
        `${JSON.stringify({ source: row.source, stream: row.streamId, providerMs: round(providerMs), floorMs: round(floorMs), sinceStreamStart: round(row.shownAtMs - row.streamStartedAtMs), serverTtft: byTag.get(row.streamId)?.serverTtftMs, tokens: countTokens(row.generatedText), chars: row.generatedText.length, tail: row.generatedText.slice(-30) })}\n`,
      );
    }
    addedBySource[row.source].push(providerMs - floorMs);
    shownEndByStream.set(row.streamId, Math.max(shownEndByStream.get(row.streamId) ?? 0, row.generatedText.length));
  }
  // Wasted server tokens: generated but never part of any suggestion shown (typed-through text counts as shown).
  let serverTokens = 0;
  let usefulTokens = 0;
  for (const request of measured) {
    serverTokens += request.tokensWritten;
    const shownEnd = shownEndByStream.get(request.tag) ?? 0;
    usefulTokens += Math.min(request.tokensWritten, countTokens(request.textWritten.slice(0, shownEnd)));
  }
  const k2g = rows.map((row) => row.shownAtMs - row.keyAtMs);
  const count = (source: InlineSuggestion['source']) => rows.filter((row) => row.source === source).length;
  const shownTotal = rows.length + typedThrough;
  const half = Math.floor(keystrokes / 2);
  const steadyKeystrokes = Math.max(1, keystrokes - half);
  const newConnections = transport.connectionsOpened - (connectionsByKeystroke[half] ?? transport.connectionsOpened);
  const steadyOpened = connectionUse.opened(keyTimes[half] ?? Number.POSITIVE_INFINITY);
  const result = {
    k2gMs: { p50: percentile(k2g, 0.5), p95: percentile(k2g, 0.95), p99: percentile(k2g, 0.99), n: k2g.length },
    addedLatencyMs: {
      p50: percentile(added, 0.5),
      p99: percentile(added, 0.99),
      n: added.length,
      bySource: Object.fromEntries(
        Object.entries(addedBySource).map(([source, values]) => [
          source,
          { p50: percentile(values, 0.5), p99: percentile(values, 0.99), n: values.length },
        ]),
      ),
    },
    engineAfterDataMs: { p50: percentile(afterData, 0.5), p99: percentile(afterData, 0.99), n: afterData.length },
    engineBeforeRequestMs: {
      p50: percentile(beforeRequest, 0.5),
      p99: percentile(beforeRequest, 0.99),
      n: beforeRequest.length,
    },
    networkBreakdownMs: {
      requestStartToServer: { p50: percentile(sendMs, 0.5), max: percentile(sendMs, 1) },
      scheduledTokenToEngine: { p50: percentile(deliveryMs, 0.5), max: percentile(deliveryMs, 1) },
    },
    cacheServedShare: shownTotal === 0 ? null : round((count('cache') + typedThrough) / shownTotal),
    requestsPerPause: round(measured.length / Math.max(1, pauses)),
    wastedServerTokensPer100Keystrokes: round(((serverTokens - usefulTokens) / Math.max(1, keystrokes)) * 100),
    newConnectionsPer100Keystrokes: round((newConnections / steadyKeystrokes) * 100),
    // At the reference price: every request of the run, and the share of it spent on requests no suggestion came from.
    cost: costFigures(attemptRecords, recordsByStream, (tag) => shownEndByStream.has(tag), keystrokes),
    // The same connections by what they were opened for: a request that waited for the connect, or a background spare
    // (replacing one the server's 65 s keep-alive closed after it sat unused, or one an aborted stream destroyed).
    newConnectionsPer100KeystrokesByCause: {
      requestsThatWaited: round((steadyOpened.forRequests / steadyKeystrokes) * 100),
      backgroundSpares: round((steadyOpened.spares / steadyKeystrokes) * 100),
    },
    rssMb: round(process.memoryUsage().rss / (1024 * 1024)),
    shown: { network: count('network'), inFlight: count('in-flight'), cache: count('cache'), typedThrough },
    keystrokes,
    pauses,
    requests: measured.length,
    warmupRequests: report.requests.length - measured.length,
    engine: engine.counters,
    serverTokens,
    usefulTokens,
    connections: {
      clientOpened: transport.connectionsOpened,
      openedInSecondHalf: newConnections,
      serverAccepted: report.connections,
    },
    loadAverage1m: round(loadavg()[0] ?? 0),
    cpus: cpus().length,
    segments: segments.map((segment) => `${segment.file}:${segment.text.slice(0, segment.start).split('\n').length}`),
    typingMs: Math.round(typingMs),
    config: {
      ttftMs: SERVER_TTFT_MS,
      tokensPerSec: SERVER_TOKENS_PER_SEC,
      providerDelayMs: PROVIDER_DELAY_MS,
      wrongShare: WRONG_SHARE,
      seed: SEED,
      pauseMs: PAUSE_MS,
      steadyState: 'second half of the keystrokes',
    },
  };
  await transport.close();
  sim.close();
  if (!asJson && probeLog.length > 0) process.stderr.write(`${probeLog.join('\n')}\n`);
  return result;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:inline failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});

const MISS_BURSTS = 30;
const MISS_KEY_GAP_MS = 120;
/** The burst: Enter, then `const x`, at one key per 120 ms (a typist going on with something the model did not guess). */
const MISS_BURST_KEYS = ['\n', 'c', 'o', 'n', 's', 't', ' ', 'x'];

/**
 * The miss path, where people live: at the ends of statement lines of real source files, bursts of 8 keys against a
 * simulator whose continuation never matches what is typed next. Per burst: the last key to ghost text, and what the
 * burst cost the server (requests, aborted ones, decode tokens, prompt tokens). `slots`: the server runs that many
 * requests at once (1: a local llama.cpp's usual setup); null: unlimited.
 */
async function runMissPath(slots: number | null) {
  const sim = await startSimulatorChild(slots);
  const { transport, engine, promptTokensByStream, startedAtByStream, attemptRecords, recordsByStream } =
    await composeExtension(sim.baseUrl, true);
  // When each shown suggestion's stream started: stream ids count across the engines of a process while tags restart
  // per engine, so the stream is found by its start (the request is sent in the same call that creates the stream).
  const shownStreamStarts: number[] = [];
  const statementEnds: { readonly file: string; readonly text: string; readonly at: number }[] = [];
  for (const { file, text } of readSources()) {
    for (const match of text.matchAll(/^[ \t]+[^\n]*;[ \t]*$/gm))
      statementEnds.push({ file, text, at: (match.index ?? 0) + match[0].length });
  }
  const bursts: {
    readonly k2gMs: number | null;
    readonly shownTokens: number;
    readonly firstTag: number;
    readonly lastTag: number;
    readonly lastKeyEpochMs: number;
    readonly lastCallEpochMs: number;
  }[] = [];
  let tagBefore = engine.counters.requests;
  for (let burst = 0; burst < MISS_BURSTS && statementEnds.length > 0; burst += 1) {
    const place = statementEnds[Math.floor(random() * statementEnds.length)];
    if (place === undefined) continue;
    const before = place.text.slice(0, place.at);
    const suffix = place.text.slice(place.at);
    const documentId = `file:///bench/miss/${burst}/${place.file}`;
    let typed = '';
    let pendingCall: AbortController | null = null;
    let callTimer: NodeJS.Timeout | null = null;
    // Set from the provider's answer, which arrives in a callback.
    const screen: { shown: { atMs: number; text: string; streamStartedAtMs: number } | null } = { shown: null };
    let lastKeyAtMs = 0;
    let lastCallAtMs = 0;
    const firstTag = tagBefore + 1;
    for (const [index, key] of MISS_BURST_KEYS.entries()) {
      if (index > 0) await sleep(MISS_KEY_GAP_MS);
      const keyAtMs = performance.now();
      pendingCall?.abort();
      if (callTimer !== null) clearTimeout(callTimer);
      screen.shown = null;
      typed += key;
      const controller = new AbortController();
      pendingCall = controller;
      const isLast = index === MISS_BURST_KEYS.length - 1;
      if (isLast) lastKeyAtMs = keyAtMs;
      const state: InlineDocumentState = {
        documentId,
        languageId: 'javascript',
        path: place.file,
        repoName: 'bench',
        prefix: before + typed,
        suffix,
        tabSize: 2,
        snippets: () => [],
      };
      callTimer = setTimeout(() => {
        if (isLast) lastCallAtMs = performance.now();
        void engine.provide(state, controller.signal).then((suggestion) => {
          if (suggestion === null || controller.signal.aborted) return;
          screen.shown = {
            atMs: performance.now(),
            text: suggestion.generatedText,
            streamStartedAtMs: suggestion.streamStartedAtMs,
          };
        });
      }, PROVIDER_DELAY_MS);
    }
    // Wait for the ghost text (or give up after 3 s), then let the streams settle before the next burst.
    const deadline = performance.now() + 3000;
    while (screen.shown === null && performance.now() < deadline) await sleep(5);
    const seen = screen.shown;
    if (seen !== null) shownStreamStarts.push(seen.streamStartedAtMs);
    pendingCall?.abort();
    await sleep(400);
    const lastTag = engine.counters.requests;
    tagBefore = lastTag;
    bursts.push({
      k2gMs: seen === null ? null : seen.atMs - lastKeyAtMs,
      shownTokens: seen === null ? 0 : Math.max(1, countTokens(seen.text.split('\n')[0] ?? '')),
      firstTag,
      lastTag,
      lastKeyEpochMs: performance.timeOrigin + lastKeyAtMs,
      lastCallEpochMs: performance.timeOrigin + lastCallAtMs,
    });
  }
  await sleep(300);
  const report = await sim.report();
  const byTag = new Map(
    report.requests.filter((request) => request.tag !== -1).map((request) => [request.tag, request]),
  );
  const perBurst = bursts.map((burst) => {
    const served = [];
    for (let tag = burst.firstTag; tag <= burst.lastTag; tag += 1) {
      const request = byTag.get(tag);
      if (request !== undefined) served.push({ tag, request });
    }
    // The last keystroke's request: the first one started after the provider was called for that key (a speculative
    // request for the state after the shown suggestion may follow it).
    const lastCallAtMs = burst.lastCallEpochMs - performance.timeOrigin;
    const lastTag = served.find(
      ({ tag }) => (startedAtByStream.get(tag) ?? Number.NEGATIVE_INFINITY) >= lastCallAtMs,
    )?.tag;
    const last = lastTag === undefined ? undefined : byTag.get(lastTag);
    return {
      requests: served.length,
      aborted: served.filter(({ request }) => request.clientDisconnected).length,
      decodeTokens: served.reduce((sum, { request }) => sum + request.tokensWritten, 0),
      promptTokens: served.reduce((sum, { tag }) => sum + (promptTokensByStream.get(tag) ?? 0), 0),
      // When the last keystroke's request reached the server, after the provider was called for that keystroke.
      lastRequestAfterCallMs: last === undefined ? null : last.arrivalEpochMs - burst.lastCallEpochMs,
      lastRequestSlotWaitMs: last?.slotWaitMs ?? null,
      k2gMs: burst.k2gMs,
      firstLineMs: (burst.shownTokens * 1000) / SERVER_TOKENS_PER_SEC,
    };
  });
  const shownTags = new Set<number>();
  const tagsByStart = [...startedAtByStream].sort((a, b) => a[1] - b[1]);
  for (const startedAt of shownStreamStarts) {
    const tag = tagsByStart.find(([, at]) => at >= startedAt)?.[0];
    if (tag !== undefined) shownTags.add(tag);
  }
  const shownBursts = perBurst.filter((burst) => burst.k2gMs !== null);
  const k2g = shownBursts.map((burst) => burst.k2gMs ?? 0);
  const firstLine = shownBursts.map((burst) => burst.firstLineMs);
  const overTarget = shownBursts.map(
    (burst) => (burst.k2gMs ?? 0) - (PROVIDER_DELAY_MS + SERVER_TTFT_MS + burst.firstLineMs + 10),
  );
  const column = (pick: (burst: (typeof perBurst)[number]) => number | null) =>
    perBurst.map(pick).filter((value): value is number => value !== null);
  const summary = (values: readonly number[]) => ({
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    max: percentile(values, 1),
  });
  const result = {
    slots: slots ?? 'unlimited',
    bursts: perBurst.length,
    burstsWithoutGhostText: perBurst.length - shownBursts.length,
    k2gMs: summary(k2g),
    // The target: keystroke to ghost text <= 50 ms (VS Code) + TTFT + first-line time + 10 ms.
    targetMs: { p50: round(PROVIDER_DELAY_MS + SERVER_TTFT_MS + (percentile(firstLine, 0.5) ?? 0) + 10) },
    overTargetMs: summary(overTarget),
    // At the reference price, per 100 keystrokes of these bursts; wasted: requests whose text was never shown.
    cost: costFigures(
      attemptRecords,
      recordsByStream,
      (tag) => shownTags.has(tag),
      perBurst.length * MISS_BURST_KEYS.length,
    ),
    perBurst: {
      requests: summary(column((burst) => burst.requests)),
      aborted: summary(column((burst) => burst.aborted)),
      decodeTokens: summary(column((burst) => burst.decodeTokens)),
      promptTokens: summary(column((burst) => burst.promptTokens)),
      lastRequestAfterCallMs: summary(column((burst) => burst.lastRequestAfterCallMs)),
      lastRequestSlotWaitMs: summary(column((burst) => burst.lastRequestSlotWaitMs)),
    },
    engine: engine.counters,
    config: {
      ttftMs: SERVER_TTFT_MS,
      tokensPerSec: SERVER_TOKENS_PER_SEC,
      keyGapMs: MISS_KEY_GAP_MS,
      keys: MISS_BURST_KEYS.join(''),
      providerDelayMs: PROVIDER_DELAY_MS,
    },
  };
  await transport.close();
  sim.close();
  return result;
}
