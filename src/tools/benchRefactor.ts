// `npm run --silent bench:refactor -- [--json] [--tokens N] [--edit-latency-ms N] [--runs N] [--meter rough|cl100k]`
// Streams a 2,000-token refactor answer from the simulator at 1,000, 3,000 and 10,000 tokens/s through the pipeline
// that drives the editor (generation service -> code extraction -> re-indentation -> frame-batched edit session)
// into an in-memory document with the editor's edit semantics, and reports per rate (never asserts):
// - finalLagMs: the server's last token -> the document holding the final text;
// - editsPerSec: document edits per second while streaming (about one per 16 ms frame is the design);
// - eventLoopLagP99Ms: p99 of perf_hooks.monitorEventLoopDelay on the pipeline's thread during the stream.
// The simulator runs in a worker thread, so the event loop measured is the pipeline's alone (as in the extension host,
// where the server is another process). Times cross threads as performance.timeOrigin + performance.now().
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { systemClock } from '../core/clock';
import type { ResolvedEndpoint } from '../core/endpoint';
import { isRecord } from '../core/json';
import { CodeExtractor } from '../core/refactor/codeExtractor';
import { roughTokenCount } from '../core/stream/meter';
import { RoutedGenerationService } from '../core/generation/routedGenerationService';
import { systemScheduler } from '../core/scheduler';
import { StatsHub } from '../core/speed/statsHub';
import { MemoryDocument } from '../core/refactor/memoryDocument';
import { buildRefactorMessages } from '../core/refactor/refactorPrompt';
import { startRefactor } from '../core/refactor/refactorRun';
import { Reindenter, type ReindentOptions } from '../core/refactor/reindent';
import { countTokens } from '../core/stream/tokenCount';
import { createTransport } from '../core/stream/transport';
import { startSimulator } from '../sim/simulator';

const RATES = [1000, 3000, 10_000] as const;

/** What the worker reports about one finished request. */
interface ServerTiming {
  readonly lastTokenAbsMs: number | null;
  readonly tokensWritten: number;
  readonly writtenTokensPerSec: number | null;
  readonly textWritten: string;
}

/** A code answer of at least `tokens` cl100k tokens (the simulator trims it to exactly that many). */
function answerCode(tokens: number): string {
  const blocks: string[] = [];
  // Counted block by block (each block ends in a newline, so the counts add up closely), not the whole text each time.
  for (let index = 0, counted = 0; counted < tokens + 50; index += 1) {
    const block = [
      `function scaleItem${index}(items: readonly number[], factor: number): number[] {`,
      `  const scaled = items.map((value) => value * factor + ${index});`,
      `  return scaled.filter((value) => value % ${(index % 7) + 2} !== 0);`,
      '}',
      '',
      '',
    ].join('\n');
    blocks.push(block);
    counted += countTokens(block);
  }
  return blocks.join('').trimEnd();
}

const absoluteNow = (): number => performance.timeOrigin + performance.now();

async function workerMain(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const { tokens } = workerData satisfies { tokens: unknown };
  const code = answerCode(typeof tokens === 'number' ? tokens : 2000);
  const sim = await startSimulator({
    ttftMs: 20,
    tokensPerEvent: 1,
    completionTokens: typeof tokens === 'number' ? tokens : 2000,
    maxTokensDefault: null,
    completionFor: () => `Here is the refactored code:\n\n\`\`\`ts\n${code}\n\`\`\`\n`,
  });
  port.on('message', (message: unknown) => {
    if (message === 'close') {
      void sim.close().then(() => port.close());
      return;
    }
    if (message === 'timing') {
      const entry = sim.requests.filter((request) => request.path === '/v1/chat/completions').at(-1);
      const timing: ServerTiming = {
        lastTokenAbsMs: entry?.lastTokenMs == null ? null : performance.timeOrigin + entry.lastTokenMs,
        tokensWritten: entry?.tokensWritten ?? 0,
        writtenTokensPerSec: entry?.writtenTokensPerSec ?? null,
        textWritten: entry?.textWritten ?? '',
      };
      port.postMessage({ timing });
    }
  });
  port.postMessage({ baseUrl: sim.baseUrl });
}

function ask(worker: Worker, message: string): Promise<unknown> {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message);
  });
}

function timingOf(reply: unknown): ServerTiming {
  const timing = isRecord(reply) ? reply['timing'] : undefined;
  if (!isRecord(timing)) throw new Error('The simulator worker sent no timing.');
  const number = (value: unknown): number | null => (typeof value === 'number' ? value : null);
  return {
    lastTokenAbsMs: number(timing['lastTokenAbsMs']),
    tokensWritten: number(timing['tokensWritten']) ?? 0,
    writtenTokensPerSec: number(timing['writtenTokensPerSec']),
    textWritten: typeof timing['textWritten'] === 'string' ? timing['textWritten'] : '',
  };
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      tokens: { type: 'string', default: '2000' },
      'edit-latency-ms': { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      // The speed meter's token counter: `rough` (what src/extension.ts wires today) or `cl100k` (the exact estimate).
      meter: { type: 'string', default: 'rough' },
    },
  });
  const tokens = Number(values.tokens);
  // VS Code applies an extension's edit in the renderer process: the reply comes back after a round trip. Modelled as
  // a timer of this many ms per edit (the in-memory document's application itself is a string splice).
  const editLatencyMs = Number(values['edit-latency-ms']);
  const runs = Math.max(1, Number(values.runs));

  const worker = new Worker(__filename, { workerData: { tokens } });
  const ready: unknown = await new Promise((resolve) => worker.once('message', resolve));
  const baseUrl = isRecord(ready) && typeof ready['baseUrl'] === 'string' ? ready['baseUrl'] : null;
  if (baseUrl === null) throw new Error('The simulator worker did not start.');

  const transport = createTransport();
  const headers: Record<string, string> = {};
  const endpoint: ResolvedEndpoint = {
    id: 'burst#0',
    role: 'burst',
    label: 'Simulated burst',
    preset: null,
    target: { baseUrl: `${baseUrl}/v1`, protocol: 'openai-chat', model: 'sim' },
    contextWindow: null,
    fim: 'none',
    simulated: true,
    predictedOutputs: false,
    price: { kind: 'free', why: 'simulated' },
  };
  // The status bar's and the panel's source, fed every token as in the extension.
  const sink = new StatsHub({ clock: systemClock, scheduler: systemScheduler, endpoints: () => [endpoint] });
  const meterCounter = values.meter === 'cl100k' ? countTokens : roughTokenCount;
  // The service the extension uses (the router with its first-token timeout and health book), as bench:inline does.
  const service = new RoutedGenerationService({
    knownSecrets: () => [],
    transport,
    clock: systemClock,
    endpoints: (role) => (role === 'burst' ? [endpoint] : []),
    sink,
    countTokens: meterCounter,
  });
  await transport.warm(`${baseUrl}/health`);

  const original = '  oldImplementation(items) {\n    return items;\n  }\n';
  const before = 'export class Items {\n';
  const after = '}\n';
  const results: Record<string, unknown> = {};
  const summary: { rate: number; finalLagMs: number; editsPerSec: number; eventLoopLagP99Ms: number }[] = [];

  for (const rate of RATES) {
    headers['x-sim-tokens-per-sec'] = String(rate);
    const perRun: {
      finalLagMs: number;
      editsPerSec: number;
      eventLoopLagP99Ms: number;
      idleEventLoopLagP99Ms: number;
      eventLoopUtilization: number;
      edits: number;
      correct: boolean;
      serverTokensPerSec: number | null;
      tokensWritten: number;
    }[] = [];
    for (let run = 0; run < runs + 1; run += 1) {
      const document = new MemoryDocument(before + original + after, {
        deliver: (apply) => {
          setTimeout(apply, editLatencyMs);
        },
      });
      let lastChangeAbsMs = 0;
      const monitor = monitorEventLoopDelay({ resolution: 1 });
      const refactor = startRefactor(
        { service, clock: systemClock },
        {
          document,
          region: { offset: before.length, length: original.length },
          messages: buildRefactorMessages({
            instruction: 'Simplify',
            languageId: 'typescript',
            filePath: 'items.ts',
            code: original,
            contextBefore: before,
            contextAfter: after,
            insertBelow: false,
          }),
          promptTokens: 200,
          maxOutputTokens: tokens + 200,
          reindent: REINDENT,
          leadingText: '',
          trailingText: '\n',
          extraHeaders: { ...headers },
        },
        new AbortController().signal,
      );
      document.onDidChange((changes) => {
        refactor.session.documentChanged(changes);
        lastChangeAbsMs = absoluteNow();
      });
      const eluBefore = performance.eventLoopUtilization();
      const streamStartMs = performance.now();
      monitor.enable();
      const outcome = await refactor.outcome;
      monitor.disable();
      const elu = performance.eventLoopUtilization(eluBefore);
      // The same monitor over an idle wait as long as the stream: what the machine's load alone costs the event loop.
      const idle = monitorEventLoopDelay({ resolution: 1 });
      idle.enable();
      await new Promise((resolve) => setTimeout(resolve, performance.now() - streamStartMs));
      idle.disable();
      const timing = timingOf(await ask(worker, 'timing'));
      if (run === 0) continue; // warm-up run: JIT and connection
      const counters = refactor.session.counters;
      const streamMs = (counters.lastEditAtMs ?? 0) - (counters.firstEditAtMs ?? 0);
      const regionText = refactor.session.regionText();
      // What the pipeline must produce from what the server wrote, computed in one piece instead of streamed.
      const expectedRegion = expectedRegionFor(timing.textWritten, REINDENT);
      if (process.env['BENCH_DEBUG'] !== undefined && regionText !== expectedRegion) {
        let at = 0;
        while (at < regionText.length && regionText[at] === expectedRegion[at]) at += 1;
        console.error(
          `rate ${rate}: ${outcome.kind}, first difference at ${at}: ${JSON.stringify(regionText.slice(at - 40, at + 40))} vs ${JSON.stringify(expectedRegion.slice(at - 40, at + 40))}`,
        );
      }
      perRun.push({
        finalLagMs: timing.lastTokenAbsMs === null ? Number.NaN : lastChangeAbsMs - timing.lastTokenAbsMs,
        editsPerSec: streamMs > 0 ? (counters.edits - 1) / (streamMs / 1000) : Number.NaN,
        eventLoopLagP99Ms: monitor.percentile(99) / 1e6,
        idleEventLoopLagP99Ms: idle.percentile(99) / 1e6,
        eventLoopUtilization: elu.utilization,
        edits: counters.edits,
        correct: outcome.kind === 'review' && regionText === expectedRegion && regionText.length > 1000,
        serverTokensPerSec: timing.writtenTokensPerSec,
        tokensWritten: timing.tokensWritten,
      });
    }
    const median = (pick: (run: (typeof perRun)[number]) => number): number => {
      const sorted = perRun.map(pick).sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    };
    const row = {
      finalLagMs: round(median((run) => run.finalLagMs)),
      editsPerSec: round(
        median((run) => run.editsPerSec),
        1,
      ),
      eventLoopLagP99Ms: round(median((run) => run.eventLoopLagP99Ms)),
      idleEventLoopLagP99Ms: round(median((run) => run.idleEventLoopLagP99Ms)),
      eventLoopUtilization: round(
        median((run) => run.eventLoopUtilization),
        3,
      ),
      edits: median((run) => run.edits),
      serverTokensPerSec: round(
        median((run) => run.serverTokensPerSec ?? Number.NaN),
        0,
      ),
      tokensWritten: median((run) => run.tokensWritten),
      allRunsCorrect: perRun.every((run) => run.correct),
      runs: perRun.length,
    };
    results[String(rate)] = row;
    summary.push({
      rate,
      finalLagMs: row.finalLagMs,
      editsPerSec: row.editsPerSec,
      eventLoopLagP99Ms: row.eventLoopLagP99Ms,
    });
  }
  await transport.close();
  worker.postMessage('close');

  const at3000 = summary.find((row) => row.rate === 3000);
  const report = {
    tokens,
    editLatencyMs,
    meterTokenCounter: values.meter === 'cl100k' ? 'cl100k' : 'rough',
    frameMs: 16,
    // The machine's load while measuring (1-minute load average per core): event-loop lag figures rise with it.
    loadPerCore: round((loadavg()[0] ?? 0) / Math.max(1, cpus().length)),
    rates: results,
    targets: { at: 3000, finalLagMs: 50, eventLoopLagP99Ms: 5 },
    meetsTargets: at3000 !== undefined && at3000.finalLagMs <= 50 && at3000.eventLoopLagP99Ms <= 5,
  };
  if (!values.json) {
    for (const row of summary) {
      console.log(
        `${String(row.rate).padStart(6)} tok/s  finalLag ${row.finalLagMs.toFixed(1).padStart(6)} ms  ` +
          `edits ${row.editsPerSec.toFixed(1).padStart(6)}/s  loop lag p99 ${row.eventLoopLagP99Ms.toFixed(2)} ms`,
      );
    }
  }
  console.log(JSON.stringify(report, null, values.json ? 0 : 2));
}

const REINDENT: ReindentOptions = { baseIndent: '  ', firstLineIndentPresent: false, insertSpaces: true, tabSize: 2 };

/** The region text for a whole answer, extracted and re-indented in one piece, plus the final newline. */
function expectedRegionFor(answer: string, reindent: ReindentOptions): string {
  const extractor = new CodeExtractor();
  const reindenter = new Reindenter(reindent);
  const code = extractor.push(answer) + extractor.finish();
  return reindenter.push(code) + reindenter.finish() + '\n';
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  void workerMain();
}
