// `npm run --silent bench:engine [-- --json] [-- --repeats N] [-- --model tiny|qwen05b]`
// A benchmark, not a test: it REPORTS figures. It starts llama-server, then (after llama-server has stopped) the
// extension's own local engine host (src/localEngineHost, node-llama-cpp's prebuilt CPU binary), each with one thread so
// the figures are steady on a shared 2-core machine, with the model of Qwen2.5-0.5B's shapes. On each it runs the
// extension's probe and metered requests through the real streaming path, and prints TTFT, decode and prefill tokens/s
// as the extension measures them next to the engine's own `timings`. Progress goes to stderr; stdout holds only the
// report (with --json: one JSON object on one line).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/core/clock';
import type { EndpointTarget, GenerationRequest } from '../../src/core/endpoint';
import { BackendError } from '../../src/core/errors';
import { generate } from '../../src/core/stream/generate';
import { SpeedMeter } from '../../src/core/stream/meter';
import { probeEndpoint } from '../../src/core/stream/probe';
import type { ProbeResult } from '../../src/core/stream/probe';
import type { RequestStats } from '../../src/core/requestStats';
import { countTokens } from '../../src/core/stream/tokenCount';
import { launchHost } from '../../src/core/localEngine/hostLauncher';
import { createTransport } from '../../src/core/stream/transport';
import type { Transport } from '../../src/core/stream/transport';
import { QWEN05B_MODEL, TINY_MODEL, cacheDir, ensureModel } from './makeGguf';
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
    prefillTokensPerSecByTtft:
      prompt !== null && stats.ttftMs !== null && stats.ttftMs > 0 ? (prompt * 1000) / stats.ttftMs : null,
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
  const keys = [
    'ttftMs',
    'decodeTokensPerSec',
    'serverDecodeTokensPerSec',
    'prefillTokensPerSecByTtft',
    'serverPrefillTokensPerSec',
    'promptTokens',
  ] as const;
  return Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[key]))]));
}

/** A prompt of unrelated code lines, different per run so the server's prompt cache cannot serve it. */
function prefillPrompt(run: number): string {
  const lines: string[] = [];
  for (let line = 0; line < PREFILL_LINES; line++)
    lines.push(`const value${run}_${line} = compute(${line * 7 + run}, "item-${line}");`);
  return `${lines.join('\n')}\nfunction next() {\n  return `;
}

function fixed(value: number | null, digits = 1): string {
  return value === null ? 'n/a' : value.toFixed(digits);
}

/** The figures of one engine: the probe on its fill-in-the-middle and chat routes, metered decode and prefill runs. */
interface EngineFigures {
  readonly probe: { readonly fill: Record<string, number | null>; readonly chat: Record<string, number | null> };
  readonly decode: { readonly median: Record<string, number | null>; readonly runs: readonly Measurement[] };
  readonly prefill: { readonly median: Record<string, number | null>; readonly runs: readonly Measurement[] };
}

/**
 * Runs the same measurements on one engine. `fill` is its fill-in-the-middle route (llama-server: /infill; the local
 * engine: /v1/completions with a suffix), `chat` its /v1/chat/completions.
 */
async function measureEngine(
  name: string,
  transport: Transport,
  fill: EndpointTarget,
  chat: EndpointTarget,
  repeats: number,
): Promise<EngineFigures> {
  // Warm-up: the first request pays one-time costs (buffers, page faults of the mapped model).
  await metered(transport, fill, { prompt: 'warm', maxTokens: 4 });

  log(
    `${name}: probe (the extension's own probe: src/core/stream/probe.ts) x${repeats} on ${fill.protocol} and ${chat.protocol}`,
  );
  const probes: ProbeResult[] = [];
  for (let run = 0; run < repeats; run++) {
    for (const target of [fill, chat]) {
      probes.push(
        await probeEndpoint(target, { transport, clock: systemClock, countTokens, maxTokens: DECODE_TOKENS }),
      );
    }
  }
  const failed = probes.find((probe) => !probe.ok);
  if (failed?.error)
    throw new BackendError('http', `${name}: probe failed: ${failed.error.reason} ${failed.error.message}`);

  log(`${name}: decode x${repeats}: ${DECODE_TOKENS} tokens on ${fill.protocol}`);
  const decode: Measurement[] = [];
  for (let run = 0; run < repeats; run++) {
    decode.push(
      await metered(transport, fill, {
        prompt: `// run ${run}\nfunction f() {\n`,
        suffix: '\n}\n',
        maxTokens: DECODE_TOKENS,
        temperature: 0,
      }),
    );
  }

  log(
    `${name}: prefill x${repeats}: ${PREFILL_LINES} lines of code (~540 tokens), 8 tokens out, prompt cache missed on purpose`,
  );
  const prefill: Measurement[] = [];
  for (let run = 0; run < repeats; run++) {
    prefill.push(
      await metered(transport, fill, { prompt: prefillPrompt(run), suffix: '\n', maxTokens: 8, temperature: 0 }),
    );
  }

  const probeSummary = (protocol: string): Record<string, number | null> => {
    const mine = probes.filter((probe) => probe.protocol === protocol);
    return {
      ttftMs: median(mine.map((probe) => probe.ttftMs)),
      decodeTokensPerSec: median(mine.map((probe) => probe.decodeTokensPerSec)),
      outputTokens: median(mine.map((probe) => probe.outputTokens)),
    };
  };
  return {
    probe: { fill: probeSummary(fill.protocol), chat: probeSummary(chat.protocol) },
    decode: { median: summarise(decode), runs: decode },
    prefill: { median: summarise(prefill), runs: prefill },
  };
}

/**
 * Builds the engine host from the current source into a temporary folder (the same entry and externals as
 * esbuild.mjs), so the figures never come from a stale dist/localEngineHost.js.
 */
function buildHost(): { readonly hostScript: string; readonly buildDir: string } {
  const buildDir = mkdtempSync(join(tmpdir(), 'latency-copilot-bench-host-'));
  const hostScript = join(buildDir, 'localEngineHost.js');
  const built = spawnSync(
    join('node_modules', '.bin', 'esbuild'),
    [
      'src/localEngineHost/main.ts',
      '--bundle',
      '--platform=node',
      '--target=node20',
      '--format=cjs',
      '--external:node-llama-cpp',
      '--log-level=error',
      `--outfile=${hostScript}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (built.status !== 0 || !existsSync(hostScript))
    throw new Error(`building the local engine host failed (esbuild exit ${String(built.status)})`);
  return { hostScript, buildDir };
}

/** node-llama-cpp's version in the cache folder the engine suite installs, or null when it is not there. */
function nodeLlamaCppVersion(moduleDir: string): string | null {
  try {
    const manifest: unknown = JSON.parse(
      readFileSync(join(moduleDir, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8'),
    );
    if (
      typeof manifest === 'object' &&
      manifest !== null &&
      'version' in manifest &&
      typeof manifest.version === 'string'
    )
      return manifest.version;
  } catch {
    // Not installed: the host reports binary-missing with the fix.
  }
  return null;
}

function engineLines(title: string, fillName: string, figures: EngineFigures): string[] {
  const d = figures.decode.median;
  const p = figures.prefill.median;
  return [
    title,
    `  probe ${fillName.padEnd(13)} TTFT ${fixed(figures.probe.fill['ttftMs'] ?? null)} ms, decode ${fixed(figures.probe.fill['decodeTokensPerSec'] ?? null)} tok/s`,
    `  probe chat          TTFT ${fixed(figures.probe.chat['ttftMs'] ?? null)} ms, decode ${fixed(figures.probe.chat['decodeTokensPerSec'] ?? null)} tok/s`,
    `  decode              meter ${fixed(d['decodeTokensPerSec'] ?? null)} tok/s, engine ${fixed(d['serverDecodeTokensPerSec'] ?? null)} tok/s, TTFT ${fixed(d['ttftMs'] ?? null)} ms`,
    `  prefill (${fixed(p['promptTokens'] ?? null, 0)} tok)   TTFT ${fixed(p['ttftMs'] ?? null)} ms, by TTFT ${fixed(p['prefillTokensPerSecByTtft'] ?? null)} tok/s, engine ${fixed(p['serverPrefillTokensPerSec'] ?? null)} tok/s`,
  ];
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
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`--repeats must be a positive integer, got ${values.repeats}`);
  const spec = values.model === 'tiny' ? TINY_MODEL : QWEN05B_MODEL;

  const binary = ensureLlamaServer();
  const { version, commit } = llamaServerVersion(binary);
  const model = await ensureModel(spec, log);
  const moduleDir = join(cacheDir(), 'node-llama-cpp');
  const { hostScript, buildDir } = buildHost();
  const transport = createTransport();
  try {
    const logFile = join(mkdtempSync(join(tmpdir(), 'latency-copilot-bench-')), 'llama-server.log');
    log(`starting llama-server (${commit ?? version}) with ${spec.id}, -t ${THREADS}, -c ${CONTEXT_SIZE}`);
    const serverLoadStarted = performance.now();
    const server = await startLlamaServer({
      binary,
      modelPath: model.path,
      contextSize: CONTEXT_SIZE,
      threads: THREADS,
      slots: 1,
      logFile,
    });
    const serverLoadMs = performance.now() - serverLoadStarted;
    let llamaServer: EngineFigures;
    try {
      llamaServer = await measureEngine(
        'llama-server',
        transport,
        { baseUrl: server.baseUrl, protocol: 'llamacpp-infill', model: spec.id },
        { baseUrl: `${server.baseUrl}/v1`, protocol: 'openai-chat', model: spec.id },
        repeats,
      );
    } finally {
      // Stopped before the local engine starts: the two never share the 2 cores.
      await server.stop();
    }

    log(
      `starting the local engine host (node-llama-cpp ${nodeLlamaCppVersion(moduleDir) ?? 'not installed'}) with ${spec.id}, ${THREADS} thread, context ${CONTEXT_SIZE}`,
    );
    const hostLaunchStarted = performance.now();
    const host = await launchHost({
      hostScript,
      args: { modelPath: model.path, moduleDir, contextSize: CONTEXT_SIZE, threads: THREADS },
      startTimeoutMs: 180_000,
      onLogLine: (line) => log(`host: ${line}`),
    });
    const hostLaunchMs = performance.now() - hostLaunchStarted;
    let localEngine: EngineFigures;
    try {
      localEngine = await measureEngine(
        'local engine',
        transport,
        // The host's server answers only requests that carry its per-run key.
        { baseUrl: `${host.baseUrl}/v1`, protocol: 'openai-completions', model: spec.id, apiKey: host.apiKey },
        { baseUrl: `${host.baseUrl}/v1`, protocol: 'openai-chat', model: spec.id, apiKey: host.apiKey },
        repeats,
      );
    } finally {
      await host.stop();
    }

    const report = {
      // Other work on the machine changes every figure here: the load average says how quiet it was.
      machine: { cpus: cpus().length, loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)) },
      model: {
        id: spec.id,
        description: spec.description,
        bytes: model.bytes,
        sha256: model.sha256,
        generated: model.generated,
        generateMs: model.generateMs,
      },
      repeats,
      // `decode.median.serverDecodeTokensPerSec` and `prefill.median.serverPrefillTokensPerSec` are each engine's own
      // `timings` (llama-server's, and the host's llama.cpp-style ones); the others are the extension's meter.
      llamaServer: {
        engine: {
          commit,
          version,
          threads: THREADS,
          contextSize: CONTEXT_SIZE,
          modelLoadMs: Math.round(serverLoadMs),
          fillProtocol: 'llamacpp-infill',
        },
        ...llamaServer,
      },
      localEngine: {
        engine: {
          nodeLlamaCpp: nodeLlamaCppVersion(moduleDir),
          threads: THREADS,
          contextSize: host.contextSize,
          // The host's own figure (module, binary and model loaded) and the launcher's (fork to ready).
          hostLoadMs: Math.round(host.loadMs),
          launchMs: Math.round(hostLaunchMs),
          fillProtocol: 'openai-completions',
        },
        ...localEngine,
      },
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      process.stdout.write(
        [
          `${spec.id} (${(model.bytes / 1e6).toFixed(0)} MB), one thread each, medians of ${repeats}, load ${report.machine.loadAverage1m} on ${report.machine.cpus} cores`,
          ...engineLines(
            `llama-server ${commit ?? version} (load ${report.llamaServer.engine.modelLoadMs} ms)`,
            '/infill',
            llamaServer,
          ),
          ...engineLines(
            `local engine, node-llama-cpp ${report.localEngine.engine.nodeLlamaCpp ?? '?'} (host load ${report.localEngine.engine.hostLoadMs} ms, launch ${report.localEngine.engine.launchMs} ms)`,
            'completions',
            localEngine,
          ),
        ].join('\n') + '\n',
      );
    }
  } finally {
    await transport.close();
    rmSync(buildDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:engine: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
