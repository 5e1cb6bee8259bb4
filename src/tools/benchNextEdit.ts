// Next-edit latency benchmark. Replays edit sequences in real source files that this project did not write
// (node_modules/undici/lib and node_modules/eslint/lib, read in place, nothing copied): a variable renamed at its
// declaration (a suffix typed after the name), then its uses; a parameter added to a function (`, extra` typed before
// the closing parenthesis), then its call sites. The declarations are picked programmatically: each has uses or calls
// within the editable region that the simulator's scripted rewrite changes. Keystrokes go through the edit history and
// the next-edit engine as the extension composes them (routed generation service, real transport, real HTTP), against
// the simulator in a child process, at TTFT 150 ms / 1,000 tok/s and 30 ms / 3,000 tok/s. Each shown prediction is
// applied with one Tab per hunk, as a person would, and the predictions after the Tab are measured too.
//
// Per rate: edit -> first hunk p50/p95, edit -> whole region p50, requests and tokens per edit, how often the first hunk
// was shown before the region was complete, and the target: first hunk <= 50 ms + TTFT + (tokens up to the end of that
// hunk) / rate + 10 ms, computed per edit from the tokens the server wrote up to the end of the first hunk.
// Reports figures; asserts nothing.
//
// Usage: npm run --silent bench:next-edit -- [--json] [--edits N] [--seed N] [--format generic|zeta|sweep|instinct]
//        [--budget-ms N] [--predicted-outputs]   (N edits of each kind per rate, default 8: about a minute per rate;
//        --predicted-outputs: the endpoint takes the unchanged region as its expected output, which the simulator
//        streams faster where the answer matches it)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock';
import type { SettingKey } from '../core/config/settings';
import type { ResolvedEndpoint } from '../core/endpoint';
import type { GenerationService, GenerationSpec } from '../core/generation/generationService';
import { RoutedGenerationService } from '../core/generation/routedGenerationService';
import { EditHistory, type TextChange } from '../core/nextEdit/editHistory';
import { editableRegion } from '../core/nextEdit/editableRegion';
import { NextEditEngine, readNextEditOptions } from '../core/nextEdit/nextEditEngine';
import {
  NEXT_EDIT_FORMAT_IDS,
  type NextEditDocumentSnapshot,
  type NextEditFormatId,
  type NextEditOutcome,
  type NextEditPredictionInfo,
  type PredictedHunk,
} from '../core/nextEdit/nextEditTypes';
import { EndpointHealthBook } from '../core/routing/endpointHealth';
import { systemScheduler } from '../core/scheduler';
import { percentileOfSorted, StatsHub } from '../core/speed/statsHub';
import { countTokens } from '../core/stream/tokenCount';
import {
  benchStreamTag,
  forkSimulatorChild,
  servedGenerations,
  serveSimulatorChild,
  type SimulatorChild,
} from './simulatorChild';
import { createTransport } from '../core/stream/transport';
import { scriptedRegion } from '../sim/nextEditAnswer';
import { startSimulator } from '../sim/simulator';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
function argValue(name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}
function numberArg(name: string, fallback: number): number {
  const value = Number(argValue(name));
  return Number.isFinite(value) ? value : fallback;
}

const SEED = numberArg('--seed', 7);
const EDITS_PER_KIND = Math.max(1, Math.floor(numberArg('--edits', 8)));
const FORMAT: NextEditFormatId = NEXT_EDIT_FORMAT_IDS.find((id) => id === argValue('--format')) ?? 'generic';
const BUDGET_MS = argValue('--budget-ms') === undefined ? undefined : numberArg('--budget-ms', 400);
/** Whether the endpoint takes predicted outputs (the engine then sends the unchanged region as the prediction). */
const PREDICTED_OUTPUTS = args.includes('--predicted-outputs');
/** The rates the issue names: a hosted burst backend, and a faster one. */
const RATES: readonly { readonly ttftMs: number; readonly tokensPerSec: number }[] = [
  { ttftMs: 150, tokensPerSec: 1000 },
  { ttftMs: 30, tokensPerSec: 3000 },
];
/** The target's allowance for the pause after the last keystroke (the engine's typing pause is 50 ms). */
const EDIT_PAUSE_ALLOWANCE_MS = 50;
const TARGET_SLACK_MS = 10;
/** A person reads a shown hunk before pressing Tab; Tabs through a prediction's hunks come this far apart. */
const READ_BEFORE_TAB_MS = 300;
const BETWEEN_TABS_MS = 150;
/** Predictions followed after a Tab before the sequence ends (a rename's uses further down come in steps). */
const MAX_STEPS_AFTER_TAB = 3;
const PREDICTION_TIMEOUT_MS = 5_000;
const SOURCE_DIRS = ['node_modules/undici/lib', 'node_modules/eslint/lib'];
/** Model names that select each format (as `chooseNextEditFormat` matches them). */
const MODEL_FOR_FORMAT: Readonly<Record<NextEditFormatId, string>> = {
  generic: 'llama-3.1-8b-sim',
  zeta: 'zeta-sim',
  sweep: 'sweep-next-edit-sim',
  instinct: 'instinct-sim',
};

// A small deterministic generator (LCG), so that runs with the same seed pick and type the same way.
let randomState = SEED >>> 0;
function random(): number {
  randomState = (Math.imul(randomState, 1664525) + 1013904223) >>> 0;
  return randomState / 4294967296;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Nearest-rank percentile of `values` (any order), rounded for the report. */
function percentile(values: readonly number[], q: number): number | null {
  const value = percentileOfSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
  return value === null ? null : round(value);
}

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 1000) / 1000;
}

// ---------------------------------------------------------------------------------------------------------------------
// Scenarios: declarations picked from the source files.

/** One edit sequence: the person's keystrokes at a declaration, in a file. */
interface Scenario {
  readonly kind: 'rename' | 'add-parameter';
  readonly file: string;
  readonly text: string;
  /** 1-based line of the declaration, for the report. */
  readonly line: number;
  /** Where the typing happens (an offset of the original text), and what is typed there, one key per character. */
  readonly at: number;
  readonly typed: string;
}

function sourceFiles(): { readonly file: string; readonly text: string }[] {
  const walk = (dir: string): string[] => {
    let names: string[];
    try {
      names = readdirSync(join(process.cwd(), dir)).sort();
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const path = `${dir}/${name}`;
      const stats = statSync(join(process.cwd(), path));
      if (stats.isDirectory()) return walk(path);
      return name.endsWith('.js') && stats.size < 200_000 ? [path] : [];
    });
  };
  return SOURCE_DIRS.flatMap(walk).map((file) => ({ file, text: readFileSync(join(process.cwd(), file), 'utf8') }));
}

function wholeWord(name: string): RegExp {
  return new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
}

/** Whether the simulator's scripted rewrite changes the region the engine will cut after `scenario`'s edit. */
function scriptChanges(scenario: Omit<Scenario, 'line'>, lineStart: number, lineEnd: number): boolean {
  const after = scenario.text.slice(0, scenario.at) + scenario.typed + scenario.text.slice(scenario.at);
  const region = editableRegion(after, scenario.at + scenario.typed.length, 10);
  const regionText = region.text.replace(/\n$/, '');
  const edit = {
    before: scenario.text.slice(lineStart, lineEnd),
    after: after.slice(lineStart, lineEnd + scenario.typed.length),
  };
  return scriptedRegion(regionText, edit) !== regionText;
}

/** Renames (`const name =` with two or more uses in the next lines) and added parameters (a call nearby). */
function findScenarios(): { readonly renames: Scenario[]; readonly parameters: Scenario[] } {
  const renames: Scenario[] = [];
  const parameters: Scenario[] = [];
  for (const { file, text } of sourceFiles()) {
    if (text.includes('\r')) continue;
    const lines = text.split('\n');
    let lineStart = 0;
    lines.forEach((line, index) => {
      const start = lineStart;
      lineStart += line.length + 1;
      const declared = /^(\s*(?:const|let|var)\s+)([A-Za-z_$][\w$]*)\s*=/.exec(line);
      if (declared !== null) {
        const name = declared[2] ?? '';
        const suffix = 'Value';
        const uses =
          lines
            .slice(index + 1, index + 9)
            .join('\n')
            .match(wholeWord(name)) ?? [];
        if (uses.length >= 2 && !text.includes(`${name}${suffix}`)) {
          const scenario = {
            kind: 'rename' as const,
            file,
            text,
            at: start + (declared[1] ?? '').length + name.length,
          };
          const candidate = { ...scenario, typed: suffix };
          if (scriptChanges(candidate, start, start + line.length)) renames.push({ ...candidate, line: index + 1 });
        }
      }
      const fn = /^(\s*(?:async\s+)?function\s*\*?\s*[A-Za-z_$][\w$]*\s*\()([^()]*)\)/.exec(line);
      if (fn !== null && !/,\s*$/.test(fn[2] ?? '') && !/\bextra\b/.test(text)) {
        const params = (fn[2] ?? '').trim();
        const candidate = {
          kind: 'add-parameter' as const,
          file,
          text,
          at: start + (fn[1] ?? '').length + (fn[2] ?? '').length,
          typed: params === '' ? 'extra' : ', extra',
        };
        if (scriptChanges(candidate, start, start + line.length)) parameters.push({ ...candidate, line: index + 1 });
      }
    });
  }
  return { renames, parameters };
}

/** Up to `count` scenarios, shuffled by the seed, at most two from any one file (so no single file dominates). */
function pick(candidates: readonly Scenario[], count: number): Scenario[] {
  const shuffled = [...candidates];
  for (let index = shuffled.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    const a = shuffled[index];
    const b = shuffled[other];
    if (a === undefined || b === undefined) continue;
    shuffled[index] = b;
    shuffled[other] = a;
  }
  const perFile = new Map<string, number>();
  const picked: Scenario[] = [];
  for (const scenario of shuffled) {
    if (picked.length >= count) break;
    const used = perFile.get(scenario.file) ?? 0;
    if (used >= 2) continue;
    perFile.set(scenario.file, used + 1);
    picked.push(scenario);
  }
  return picked;
}

// ---------------------------------------------------------------------------------------------------------------------
// The simulator, in a child process like a real server (its tokenizing and pacing never share the engine's event loop).

/** What the child reports about one generation request. */
interface ServedRequest {
  readonly tag: number;
  readonly promptTokens: number;
  readonly tokensWritten: number;
  readonly textWritten: string;
  readonly clientDisconnected: boolean;
}

async function runSimulatorChild(): Promise<void> {
  const sim = await startSimulator({
    ttftMs: numberArg('--ttft', 150),
    tokensPerSec: numberArg('--rate', 1000),
    roleChunk: true,
    sendUsage: true,
    contextWindow: 32_768,
    requestLogLimit: 100_000,
    // Next-edit prompts get the simulator's own scripted rewrite: the newest edit carried through the region.
  });
  serveSimulatorChild(sim, () => ({
    requests: servedGenerations(sim).map((request): ServedRequest => ({
      tag: benchStreamTag(request.body),
      promptTokens: request.promptTokens,
      tokensWritten: request.tokensWritten,
      textWritten: request.textWritten,
      clientDisconnected: request.clientDisconnected,
    })),
  }));
}

function isServedRequest(value: unknown): value is ServedRequest {
  return (
    typeof value === 'object' &&
    value !== null &&
    'tag' in value &&
    typeof value.tag === 'number' &&
    'promptTokens' in value &&
    typeof value.promptTokens === 'number' &&
    'tokensWritten' in value &&
    typeof value.tokensWritten === 'number' &&
    'textWritten' in value &&
    typeof value.textWritten === 'string' &&
    'clientDisconnected' in value &&
    typeof value.clientDisconnected === 'boolean'
  );
}

function startSimulatorChild(rate: {
  readonly ttftMs: number;
  readonly tokensPerSec: number;
}): Promise<SimulatorChild<ServedRequest[]>> {
  return forkSimulatorChild(
    __filename,
    ['--sim-child', '--ttft', String(rate.ttftMs), '--rate', String(rate.tokensPerSec)],
    (message) => {
      const requests = message['requests'];
      return Array.isArray(requests) ? requests.filter(isServedRequest) : null;
    },
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// The extension's next-edit pieces, composed as src/extension.ts does, against one simulator.

/** One request as the engine started it: its tag (sent in the body), when it started and when its text last arrived. */
interface StartedRequest {
  readonly tag: number;
  readonly startedAtMs: number;
  lastTextAtMs: number | null;
}

/** What the listener saw of one shown prediction. */
interface SeenPrediction {
  readonly info: NextEditPredictionInfo;
  firstHunkAtMs: number | null;
  firstHunk: PredictedHunk | null;
  endedAtMs: number | null;
  outcome: NextEditOutcome | null;
}

function composeExtension(baseUrl: string) {
  const transport = createTransport();
  const endpoint: ResolvedEndpoint = {
    id: 'burst#0',
    role: 'burst',
    label: 'Simulated burst backend (benchmark)',
    preset: 'openai',
    target: {
      baseUrl: `${baseUrl}/v1`,
      protocol: FORMAT === 'generic' ? 'openai-chat' : 'openai-completions',
      model: MODEL_FOR_FORMAT[FORMAT],
    },
    contextWindow: 32_768,
    fim: 'auto',
    simulated: true,
    predictedOutputs: PREDICTED_OUTPUTS,
    price: { kind: 'free', why: 'simulated' },
  };
  const health = new EndpointHealthBook(systemClock);
  const hub = new StatsHub({ clock: systemClock, scheduler: systemScheduler, endpoints: () => [endpoint] });
  const routed = new RoutedGenerationService({
    knownSecrets: () => ['bench-api-key-0123456789abcdef'],
    transport,
    clock: systemClock,
    scheduler: systemScheduler,
    endpoints: (role) => (role === 'burst' ? [endpoint] : []),
    sink: hub,
    health,
    countTokens,
  });
  // Tags each request with a sequence number, so the simulator's record of it (tokens written) can be matched.
  const started: StartedRequest[] = [];
  const service: GenerationService = {
    start(spec: GenerationSpec) {
      const request: StartedRequest = { tag: started.length + 1, startedAtMs: performance.now(), lastTextAtMs: null };
      started.push(request);
      const run = routed.start({
        ...spec,
        build: (chosen) => {
          const plan = spec.build(chosen);
          return {
            ...plan,
            request: { ...plan.request, extraBody: { ...plan.request.extraBody, bench_stream: request.tag } },
          };
        },
      });
      // Stamps each text event as it leaves the generation service, i.e. when the engine could first use it.
      async function* stamped() {
        for await (const event of run.events) {
          if (event.kind === 'text') request.lastTextAtMs = performance.now();
          yield event;
        }
      }
      return { ...run, events: stamped() };
    },
  };
  const settings: Partial<Record<SettingKey, unknown>> = {
    ...(BUDGET_MS === undefined ? {} : { 'nextEdit.budgetMs': BUDGET_MS }),
    'nextEdit.format': FORMAT,
  };
  const log: string[] = [];
  const engine = new NextEditEngine({
    service,
    clock: systemClock,
    scheduler: systemScheduler,
    countTokens,
    options: () => readNextEditOptions({ get: (key) => settings[key] }),
    endpoints: () => [endpoint],
    speedOf: (endpointId) => {
      const measured = health.snapshot(endpointId);
      return { ttftP95Ms: measured.ttftP95Ms, decodeTokensPerSec: measured.decodeTokensPerSec };
    },
    log: (line) => log.push(line),
  });
  const seen: SeenPrediction[] = [];
  const byId = new Map<number, SeenPrediction>();
  engine.subscribe({
    hunks(info, hunks) {
      const now = systemClock.now();
      let entry = byId.get(info.id);
      if (entry === undefined) {
        entry = { info, firstHunkAtMs: null, firstHunk: null, endedAtMs: null, outcome: null };
        byId.set(info.id, entry);
        seen.push(entry);
      }
      if (entry.firstHunkAtMs === null) {
        entry.firstHunkAtMs = now;
        entry.firstHunk = hunks[0] ?? null;
      }
    },
    ended(info, outcome) {
      let entry = byId.get(info.id);
      if (entry === undefined) {
        entry = { info, firstHunkAtMs: null, firstHunk: null, endedAtMs: null, outcome: null };
        byId.set(info.id, entry);
        seen.push(entry);
      }
      entry.endedAtMs = systemClock.now();
      entry.outcome = outcome;
      // Hunks confirmed only when the answer ended reach the editor with the outcome: shown now.
      if (entry.firstHunkAtMs === null && outcome.kind === 'complete' && outcome.hunks.length > 0) {
        entry.firstHunkAtMs = entry.endedAtMs;
        entry.firstHunk = outcome.hunks[0] ?? null;
      }
    },
  });
  return { transport, engine, started, seen, log };
}

// ---------------------------------------------------------------------------------------------------------------------
// One rate.

/** One measured prediction: after the person's last keystroke, or after the Tab that applied a prediction's last hunk. */
interface Measured {
  readonly trigger: 'edit' | 'tab';
  readonly scenario: string;
  /** Edit -> first hunk shown, ms; null when the prediction showed none. */
  readonly firstHunkMs: number | null;
  /** Edit -> the prediction ended (the whole region received), ms; null when none ended in time. */
  readonly wholeRegionMs: number | null;
  readonly outcome: NextEditOutcome['kind'] | 'none';
  readonly hunks: number;
  /** The request that served it (null: shown from a prediction made ahead, or none). */
  readonly tag: number | null;
  readonly startedAtMs: number | null;
  readonly editedAtMs: number;
  readonly firstHunk: PredictedHunk | null;
  readonly regionStart: number;
  readonly snapshotText: string;
  firstHunkBeforeComplete: boolean | null;
}

function snapshotOf(
  documentKey: string,
  path: string,
  text: string,
  version: number,
  cursorOffset: number,
  history: EditHistory,
): NextEditDocumentSnapshot {
  return {
    documentKey,
    version,
    path,
    languageId: 'javascript',
    text,
    cursorOffset,
    history: () => history.diffs(30, systemClock.now()),
    snippets: () => [],
  };
}

/** Waits for the shown prediction made for an edit at or after `sinceMs` to end; null when none came in time. */
async function predictionAfter(seen: readonly SeenPrediction[], sinceMs: number): Promise<SeenPrediction | null> {
  const deadline = performance.now() + PREDICTION_TIMEOUT_MS;
  for (;;) {
    const found = seen.find((entry) => entry.info.editedAtMs >= sinceMs);
    if (found?.endedAtMs !== null && found?.endedAtMs !== undefined) return found;
    if (performance.now() > deadline) return found ?? null;
    await sleep(5);
  }
}

async function runRate(rate: { readonly ttftMs: number; readonly tokensPerSec: number }, scenarios: Scenario[]) {
  const sim = await startSimulatorChild(rate);
  const { transport, engine, started, seen, log } = composeExtension(sim.baseUrl);
  const measured: Measured[] = [];
  let firstMeasuredTag = Number.POSITIVE_INFINITY;
  let personEdits = 0;
  // The first scenario once more as a warm-up (connection, JIT, the health book's first figures): not measured.
  const plan = scenarios.length === 0 ? [] : [scenarios[0], ...scenarios];
  for (const [index, scenario] of plan.entries()) {
    if (scenario === undefined) continue;
    const warmUp = index === 0;
    if (!warmUp) firstMeasuredTag = Math.min(firstMeasuredTag, started.length + 1);
    const label = `${scenario.kind} ${scenario.file}:${scenario.line}`;
    const documentKey = `file:///bench/${index}/${scenario.file}`;
    const history = new EditHistory();
    history.opened(documentKey, scenario.file, scenario.text);
    let text = scenario.text;
    let version = 1;
    // The person types, one key every 80-140 ms; the edit history classifies each key as the adapter's would.
    let editedAtMs = 0;
    for (let key = 0; key < scenario.typed.length; key += 1) {
      await sleep(80 + Math.round(random() * 60));
      const offset = scenario.at + key;
      const one: TextChange = { offset, length: 0, text: scenario.typed.charAt(key) };
      text = text.slice(0, offset) + one.text + text.slice(offset);
      version += 1;
      const kind = history.changed(documentKey, [one], systemClock.now(), () => text);
      const snapshot = snapshotOf(documentKey, scenario.file, text, version, offset + 1, history);
      editedAtMs = systemClock.now();
      // As the adapter does: an edit that asks for no prediction still stops what is in flight.
      if (kind === null) engine.cancel();
      else engine.edited(() => snapshot, kind);
    }
    if (!warmUp) personEdits += 1;
    let trigger: Measured['trigger'] = 'edit';
    /** After a Tab: the request started by the Tab itself (null when a prediction made ahead served it). */
    let tabRequest: StartedRequest | null = null;
    for (let step = 0; step <= MAX_STEPS_AFTER_TAB; step += 1) {
      const prediction = await predictionAfter(seen, editedAtMs);
      const info = prediction?.info;
      // After the last keystroke the prediction's request is the first one started since (the pause before it, and
      // every keystroke, aborted the ones before); after a Tab it is started at once, or not at all.
      const ownRequest =
        trigger === 'edit' ? (started.find((one) => one.startedAtMs >= editedAtMs) ?? null) : tabRequest;
      const outcome = prediction?.outcome ?? null;
      const entry: Measured = {
        trigger,
        scenario: label,
        firstHunkMs:
          prediction?.firstHunkAtMs === null || prediction === null || info === undefined
            ? null
            : prediction.firstHunkAtMs - info.editedAtMs,
        wholeRegionMs:
          prediction?.endedAtMs === null || prediction === null || info === undefined
            ? null
            : prediction.endedAtMs - info.editedAtMs,
        outcome: outcome?.kind ?? 'none',
        hunks: outcome?.kind === 'complete' ? outcome.hunks.length : 0,
        tag: ownRequest?.tag ?? null,
        startedAtMs: ownRequest?.startedAtMs ?? null,
        editedAtMs: info?.editedAtMs ?? editedAtMs,
        firstHunk: prediction?.firstHunk ?? null,
        regionStart: info?.region.start ?? 0,
        snapshotText: info?.text ?? text,
        firstHunkBeforeComplete:
          prediction?.firstHunkAtMs === null || prediction?.firstHunkAtMs === undefined || ownRequest === null
            ? null
            : ownRequest.lastTextAtMs !== null && prediction.firstHunkAtMs < ownRequest.lastTextAtMs,
      };
      if (!warmUp) measured.push(entry);
      if (outcome?.kind !== 'complete' || outcome.hunks.length === 0 || info === undefined || info.text !== text) break;
      // Tab through the hunks: one undo step each, the history sees each as its own change.
      const firstShownAt = prediction?.firstHunkAtMs ?? systemClock.now();
      await sleep(Math.max(0, firstShownAt + READ_BEFORE_TAB_MS - systemClock.now()));
      let shift = 0;
      let cursor = 0;
      for (const [hunkIndex, hunk] of outcome.hunks.entries()) {
        if (hunkIndex > 0) await sleep(BETWEEN_TABS_MS);
        const offset = hunk.start + shift;
        const one: TextChange = { offset, length: hunk.end - hunk.start, text: hunk.newText };
        cursor = offset + hunk.newText.length;
        shift += hunk.newText.length - (hunk.end - hunk.start);
        text = text.slice(0, offset) + hunk.newText + text.slice(offset + one.length);
        version += 1;
        history.changed(documentKey, [one], systemClock.now(), () => text);
      }
      engine.noteApplied();
      const startedBefore = started.length;
      editedAtMs = systemClock.now();
      engine.edited(() => snapshotOf(documentKey, scenario.file, text, version, cursor, history), 'applied');
      tabRequest = started[startedBefore] ?? null;
      trigger = 'tab';
    }
    // Let predictions made ahead finish (they are requests the edit cost), then start the next file afresh.
    const settleBy = performance.now() + 2_000;
    while (engine.inFlight() > 0 && performance.now() < settleBy) await sleep(10);
    engine.cancel();
    await sleep(100);
  }
  await sleep(300);
  const served = (await sim.report()).filter((request) => request.tag >= firstMeasuredTag);
  const byTag = new Map(served.map((request) => [request.tag, request]));
  const result = summarise(rate, measured, byTag, personEdits, served);
  await transport.close();
  sim.close();
  return { ...result, engineLog: log.slice(0, 10) };
}

/** Tokens the server wrote up to the end of the prediction's first hunk (its new text, in the answer as written). */
function tokensToFirstHunkEnd(entry: Measured, served: ServedRequest | undefined): number | null {
  const hunk = entry.firstHunk;
  if (hunk === null || served === undefined) return null;
  // The rewritten region up to the end of the first hunk: the region's text before it, then its new text.
  const upToHunk = entry.snapshotText.slice(entry.regionStart, hunk.start) + hunk.newText;
  // Found in the answer by its last 200 characters (the format may wrap the region, and a prefix of it is unique
  // enough); the answer's own line breaks are LF, as are the files replayed.
  const tail = upToHunk.slice(-200);
  const at = served.textWritten.indexOf(tail);
  if (at === -1) return null;
  return countTokens(served.textWritten.slice(0, at + tail.length));
}

function summarise(
  rate: { readonly ttftMs: number; readonly tokensPerSec: number },
  measured: readonly Measured[],
  byTag: ReadonlyMap<number, ServedRequest>,
  personEdits: number,
  served: readonly ServedRequest[],
) {
  const afterEdit = measured.filter((entry) => entry.trigger === 'edit');
  const afterTab = measured.filter((entry) => entry.trigger === 'tab');
  const firstHunk = afterEdit.flatMap((entry) => (entry.firstHunkMs === null ? [] : [entry.firstHunkMs]));
  const wholeRegion = afterEdit.flatMap((entry) =>
    entry.wholeRegionMs === null || entry.outcome !== 'complete' ? [] : [entry.wholeRegionMs],
  );
  const targets: { readonly measuredMs: number; readonly targetMs: number; readonly tokens: number }[] = [];
  const perEdit = afterEdit.map((entry) => {
    const tokens =
      entry.firstHunkMs === null || entry.tag === null ? null : tokensToFirstHunkEnd(entry, byTag.get(entry.tag));
    const targetMs =
      tokens === null
        ? null
        : EDIT_PAUSE_ALLOWANCE_MS + rate.ttftMs + (tokens / rate.tokensPerSec) * 1000 + TARGET_SLACK_MS;
    if (entry.firstHunkMs !== null && tokens !== null && targetMs !== null)
      targets.push({ measuredMs: entry.firstHunkMs, targetMs, tokens });
    return {
      scenario: entry.scenario,
      firstHunkMs: entry.firstHunkMs === null ? null : round(entry.firstHunkMs),
      targetMs: targetMs === null ? null : round(targetMs),
      tokensToFirstHunkEnd: tokens,
      wholeRegionMs: entry.wholeRegionMs === null ? null : round(entry.wholeRegionMs),
      hunks: entry.hunks,
      firstHunkBeforeRegionComplete: entry.firstHunkBeforeComplete,
      outcome: entry.outcome,
    };
  });
  const early = afterEdit.filter((entry) => entry.firstHunkBeforeComplete !== null);
  const count = (entries: readonly Measured[], kind: Measured['outcome']) =>
    entries.filter((entry) => entry.outcome === kind).length;
  const outcomes = (entries: readonly Measured[]) => ({
    withHunks: entries.filter((entry) => entry.hunks > 0).length,
    unchanged: entries.filter((entry) => entry.outcome === 'complete' && entry.hunks === 0).length,
    discarded: count(entries, 'discarded'),
    failed: count(entries, 'failed'),
    aborted: count(entries, 'aborted'),
    none: count(entries, 'none'),
  });
  const tabFirstHunk = afterTab.flatMap((entry) => (entry.firstHunkMs === null ? [] : [entry.firstHunkMs]));
  return {
    ttftMs: rate.ttftMs,
    tokensPerSec: rate.tokensPerSec,
    edits: personEdits,
    editToFirstHunkMs: { p50: percentile(firstHunk, 0.5), p95: percentile(firstHunk, 0.95), n: firstHunk.length },
    editToWholeRegionMs: { p50: percentile(wholeRegion, 0.5), n: wholeRegion.length },
    firstHunkShownBeforeRegionComplete: share(
      early.filter((entry) => entry.firstHunkBeforeComplete === true).length,
      early.length,
    ),
    // The target, per edit from the tokens written up to the end of the first hunk.
    target: {
      measuredP50Ms: percentile(
        targets.map((row) => row.measuredMs),
        0.5,
      ),
      targetP50Ms: percentile(
        targets.map((row) => row.targetMs),
        0.5,
      ),
      overTargetMs: {
        p50: percentile(
          targets.map((row) => row.measuredMs - row.targetMs),
          0.5,
        ),
        p95: percentile(
          targets.map((row) => row.measuredMs - row.targetMs),
          0.95,
        ),
      },
      withinTargetShare: share(targets.filter((row) => row.measuredMs <= row.targetMs).length, targets.length),
      tokensToFirstHunkEndP50: percentile(
        targets.map((row) => row.tokens),
        0.5,
      ),
      n: targets.length,
    },
    requestsPerEdit: round((served.length / Math.max(1, personEdits)) * 10) / 10,
    abortedRequestsPerEdit:
      round((served.filter((one) => one.clientDisconnected).length / Math.max(1, personEdits)) * 10) / 10,
    decodeTokensPerEdit: round(served.reduce((sum, one) => sum + one.tokensWritten, 0) / Math.max(1, personEdits)),
    promptTokensPerEdit: round(served.reduce((sum, one) => sum + one.promptTokens, 0) / Math.max(1, personEdits)),
    predictionsAfterEdit: outcomes(afterEdit),
    afterTab: {
      predictions: afterTab.length,
      ...outcomes(afterTab),
      tabToFirstHunkMs: {
        p50: percentile(tabFirstHunk, 0.5),
        p95: percentile(tabFirstHunk, 0.95),
        n: tabFirstHunk.length,
      },
      servedFromPredictionMadeAhead: afterTab.filter((entry) => entry.firstHunkMs !== null && entry.tag === null)
        .length,
    },
    perEdit,
  };
}

async function main(): Promise<void> {
  if (args.includes('--sim-child')) {
    await runSimulatorChild();
    return;
  }
  // The tokenizer's ranks load on first use (in the extension: just after activation, off the editing path).
  countTokens('warm up the tokenizer');
  const { renames, parameters } = findScenarios();
  const scenarios = [...pick(renames, EDITS_PER_KIND), ...pick(parameters, EDITS_PER_KIND)];
  const rates = [];
  for (const rate of RATES) rates.push(await runRate(rate, scenarios));
  const result = {
    rates,
    scenarios: scenarios.map((scenario) => `${scenario.kind} ${scenario.file}:${scenario.line}`),
    candidates: { renames: renames.length, addParameter: parameters.length },
    config: {
      format: FORMAT,
      model: MODEL_FOR_FORMAT[FORMAT],
      predictedOutputs: PREDICTED_OUTPUTS,
      editsPerKind: EDITS_PER_KIND,
      seed: SEED,
      readBeforeTabMs: READ_BEFORE_TAB_MS,
      betweenTabsMs: BETWEEN_TABS_MS,
      target: 'first hunk <= 50 ms + TTFT + tokens up to the end of the first hunk / rate + 10 ms',
    },
    loadAverage1m: round(loadavg()[0] ?? 0),
    cpus: cpus().length,
  };
  process.stdout.write(asJson ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:next-edit failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
