// `npm run --silent bench:engine [-- --json] [-- --repeats N] [-- --model tiny|qwen05b]`
// A benchmark, not a test: it REPORTS figures. It starts llama-server (one thread, so the figures are steady on a shared
// 2-core machine) with the model of Qwen2.5-0.5B's shapes, runs the extension's probe and metered requests through the
// real streaming path, and prints TTFT, decode and prefill tokens/s as the extension measures them next to the
// server's own `timings`. Progress goes to stderr; stdout holds only the report (JSON with --json).
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/core/clock';
import type { EndpointTarget, GenerationRequest } from '../../src/core/endpoint';
import { BackendError } from '../../src/core/errors';
import { generate } from '../../src/core/generate';
import { SpeedMeter } from '../../src/core/meter';
import { probeEndpoint } from '../../src/core/probe';
import type { ProbeResult } from '../../src/core/probe';
import type { RequestStats } from '../../src/core/requestStats';
import { countTokens } from '../../src/core/tokenCount';
import { createTransport } from '../../src/core/transport';
import type { Transport } from '../../src/core/transport';
import { QWEN05B_MODEL, TINY_MODEL, ensureModel } from './makeGguf';
import { ensureLlamaServer, llamaServerVersion, startLlamaServer } from './llamaServer';

const THREADS = 1;
const CONTEXT_SIZE = 4096;
/** Decode runs generate this many tokens: long enough for a steady rate, short enough for a 2-core machine. */
const DECODE_TOKENS = 128;
/** Prefill runs send this many code lines: about 540 tokens with the Qwen3 tokenizer. */
const PREFILL_LINES = 30;

function log(line: string): void {
  process.stderr.write(`bench:engine: ${line}\n`);
}

/** One metered request: the extension's figures and the server's own, side by side. */
interface Measurement {
  readonly ttftMs: number | null;
  readonly decodeTokensPerSec: number | null;
  readonly serverDecodeTokensPerSec: number | null;
  /** Prompt tokens evaluated / TTFT: what the user waits for, network and scheduling included. */
  readonly prefillTokensPerSecByTtft: number | null;
  /** The server's prompt_n / prompt_ms. */
  readonly serverPrefillTokensPerSec: number | null;
  readonly promptTokens: number | null;
  readonly cachedPromptTokens: number | null;
  readonly outputTokens: number;
  readonly totalMs: number;
}

function measurementOf(stats: RequestStats): Measurement {
  // llama.cpp's timings.prompt_n counts only the tokens it evaluated (the cached ones are in cache_n).
  const prompt = stats.promptTokens;
  return {
    ttftMs: stats.ttftMs,
    decodeTokensPerSec: stats.decodeTokensPerSec,
    serverDecodeTokensPerSec: stats.serverDecodeTokensPerSec,
    prefillTokensPerSecByTtft: prompt !== null && stats.ttftMs !== null && stats.ttftMs > 0 ? (prompt * 1000) / stats.ttftMs : null,
    serverPrefillTokensPerSec: stats.prefillTokensPerSec,
    promptTokens: prompt,
    cachedPromptTokens: stats.cachedPromptTokens,
    outputTokens: stats.outputTokens,
    totalMs: stats.totalMs,
  };
}

async function metered(transport: Transport, target: EndpointTarget, request: GenerationRequest): Promise<Measurement> {
  const meter = new SpeedMeter(systemClock, countTokens);
  meter.start();
  for await (const event of generate(transport, target, request)) meter.observe(event);
  return measurementOf(meter.finish());
}

function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? (known[middle] ?? null) : ((known[middle - 1] ?? 0) + (known[middle] ?? 0)) / 2;
}

function summarise(runs: readonly Measurement[]): Record<string, number | null> {
  const keys = ['ttftMs', 'decodeTokensPerSec', 'serverDecodeTokensPerSec', 'prefillTokensPerSecByTtft', 'serverPrefillTokensPerSec', 'promptTokens'] as const;
  return Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[key]))]));
}

/** A prompt of unrelated code lines, different per run so the server's prompt cache cannot serve it. */
function prefillPrompt(run: number): string {
  const lines: string[] = [];
  for (let line = 0; line < PREFILL_LINES; line++) lines.push(`const value${run}_${line} = compute(${line * 7 + run}, "item-${line}");`);
  return `${lines.join('\n')}\nfunction next() {\n  return `;
}

function fixed(value: number | null, digits = 1): string {
  return value === null ? 'n/a' : value.toFixed(digits);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      repeats: { type: 'string', default: '3' },
      model: { type: 'string', default: 'qwen05b' },
    },
    strict: true,
  });
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer, got ${values.repeats}`);
  const spec = values.model === 'tiny' ? TINY_MODEL : QWEN05B_MODEL;

  const binary = ensureLlamaServer();
  const { version, commit } = llamaServerVersion(binary);
  const model = await ensureModel(spec, log);
  const logFile = join(mkdtempSync(join(tmpdir(), 'latency-copilot-bench-')), 'llama-server.log');
  log(`starting llama-server (${commit ?? version}) with ${spec.id}, -t ${THREADS}, -c ${CONTEXT_SIZE}`);
  const loadStarted = performance.now();
  const server = await startLlamaServer({ binary, modelPath: model.path, contextSize: CONTEXT_SIZE, threads: THREADS, slots: 1, logFile });
  const loadMs = performance.now() - loadStarted;
  const transport = createTransport();
  try {
    const infill: EndpointTarget = { baseUrl: server.baseUrl, protocol: 'llamacpp-infill', model: spec.id };
    const chat: EndpointTarget = { baseUrl: `${server.baseUrl}/v1`, protocol: 'openai-chat', model: spec.id };

    // Warm-up: the first request pays one-time costs (buffers, page faults of the mapped model).
    await metered(transport, infill, { prompt: 'warm', maxTokens: 4 });

    log(`probe (the extension's own probe: src/core/probe.ts) x${repeats} on /infill and /v1/chat/completions`);
    const probes: ProbeResult[] = [];
    for (let run = 0; run < repeats; run++) {
      for (const target of [infill, chat]) {
        probes.push(await probeEndpoint(target, { transport, clock: systemClock, countTokens, maxTokens: DECODE_TOKENS }));
      }
    }
    const failed = probes.find((probe) => !probe.ok);
    if (failed?.error) throw new BackendError('http', `probe failed: ${failed.error.reason} ${failed.error.message}`);

    log(`decode x${repeats}: ${DECODE_TOKENS} tokens on /infill`);
    const decode: Measurement[] = [];
    for (let run = 0; run < repeats; run++) {
      decode.push(await metered(transport, infill, { prompt: `// run ${run}\nfunction f() {\n`, suffix: '\n}\n', maxTokens: DECODE_TOKENS, temperature: 0 }));
    }

    log(`prefill x${repeats}: ${PREFILL_LINES} lines of code (~540 tokens), 8 tokens out, prompt cache missed on purpose`);
    const prefill: Measurement[] = [];
    for (let run = 0; run < repeats; run++) {
      prefill.push(await metered(transport, infill, { prompt: prefillPrompt(run), suffix: '\n', maxTokens: 8, temperature: 0 }));
    }

    const probeSummary = (protocol: string): Record<string, number | null> => {
      const mine = probes.filter((probe) => probe.protocol === protocol);
      return {
        ttftMs: median(mine.map((probe) => probe.ttftMs)),
        decodeTokensPerSec: median(mine.map((probe) => probe.decodeTokensPerSec)),
        outputTokens: median(mine.map((probe) => probe.outputTokens)),
      };
    };
    const report = {
      // Other work on the machine changes every figure here: the load average says how quiet it was.
      machine: { cpus: cpus().length, loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)) },
      engine: { commit, version, threads: THREADS, contextSize: CONTEXT_SIZE, modelLoadMs: Math.round(loadMs) },
      model: { id: spec.id, description: spec.description, bytes: model.bytes, sha256: model.sha256, generated: model.generated, generateMs: model.generateMs },
      repeats,
      probe: { infill: probeSummary('llamacpp-infill'), chat: probeSummary('openai-chat') },
      decode: { median: summarise(decode), runs: decode },
      prefill: { median: summarise(prefill), runs: prefill },
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const d = report.decode.median;
      const p = report.prefill.median;
      process.stdout.write(
        [
          `llama-server ${commit ?? version}, ${spec.id} (${(model.bytes / 1e6).toFixed(0)} MB), -t ${THREADS}, medians of ${repeats}, load ${report.machine.loadAverage1m} on ${report.machine.cpus} cores`,
          `  probe /infill      TTFT ${fixed(report.probe.infill.ttftMs ?? null)} ms, decode ${fixed(report.probe.infill.decodeTokensPerSec ?? null)} tok/s`,
          `  probe chat         TTFT ${fixed(report.probe.chat.ttftMs ?? null)} ms, decode ${fixed(report.probe.chat.decodeTokensPerSec ?? null)} tok/s`,
          `  decode             meter ${fixed(d['decodeTokensPerSec'] ?? null)} tok/s, server ${fixed(d['serverDecodeTokensPerSec'] ?? null)} tok/s, TTFT ${fixed(d['ttftMs'] ?? null)} ms`,
          `  prefill (${fixed(p['promptTokens'] ?? null, 0)} tok)  TTFT ${fixed(p['ttftMs'] ?? null)} ms, by TTFT ${fixed(p['prefillTokensPerSecByTtft'] ?? null)} tok/s, server ${fixed(p['serverPrefillTokensPerSec'] ?? null)} tok/s`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    await transport.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:engine: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
