// bench:stats — what the speed UI costs. Reports figures; asserts nothing (speed targets are judged by reading them).
//   npm run --silent bench:stats            a short table
//   npm run --silent bench:stats -- --json  one JSON object
// Measures: hub calls and time per streamed token (the design says none: displays sample on a 250 ms timer), the
// per-request bookkeeping, the work of one display tick with 10,000 requests kept, how often change notifications fire
// under a flood of finishing requests, memory held by 10,000 requests, and the history file's size and load time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock';
import type { LiveRequestView, RouteInfo } from '../core/generation/generationService';
import type { ResolvedEndpoint } from '../core/endpoint';
import { SpeedMeter, roughTokenCount } from '../core/stream/meter';
import type { RequestRecord } from '../core/requestStats';
import { systemScheduler } from '../core/scheduler';
import { SpeedHistory } from '../core/speed/speedHistory';
import { StatsHub } from '../core/speed/statsHub';
import { renderStatus } from '../core/speed/statusText';
import { nodeTextFiles } from '../core/speed/textFiles';

const json = process.argv.includes('--json');

// Memory figures need a garbage collector we can call: re-run under --expose-gc when it is missing.
const maybeGc: unknown = Reflect.get(globalThis, 'gc');
if (typeof maybeGc !== 'function' && !process.execArgv.includes('--expose-gc')) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, process.argv[1] ?? '', ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(child.status ?? 1);
}
function collectGarbage(): void {
  const gc: unknown = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') gc();
}

const endpoint: ResolvedEndpoint = {
  id: 'burst#0',
  role: 'burst',
  label: 'Bench burst',
  preset: null,
  target: { baseUrl: 'http://127.0.0.1:1/v1', protocol: 'openai-chat', model: 'bench' },
  contextWindow: 8192,
  fim: 'none',
  simulated: true,
  predictedOutputs: false,
  price: { kind: 'free', why: 'simulated' },
};
const route: RouteInfo = { endpoint, reason: 'fits' };

function record(i: number): RequestRecord {
  return {
    startedAtEpochMs: 1_700_000_000_000 + i,
    task: i % 10 === 0 ? 'refactor' : 'inline',
    endpointId: i % 7 === 0 ? 'longContext#0' : 'burst#0',
    endpointLabel: i % 7 === 0 ? 'Bench long context' : 'Bench burst',
    routeReason: i % 7 === 0 ? 'too-long' : 'fits',
    outcome: i % 13 === 0 ? 'cancelled' : 'ok',
    errorReason: null,
    retryAfterMs: null,
    fromCache: i % 9 === 0,
    promptTokensEstimate: i % 9 === 0 ? null : 1500,
    stats: {
      ttftMs: 100 + (i % 50),
      decodeTokensPerSec: 1000 + (i % 400),
      serverDecodeTokensPerSec: null,
      outputTokens: 64 + (i % 200),
      tokensSource: i % 3 === 0 ? 'estimate' : 'server',
      promptTokens: 1500,
      cachedPromptTokens: 1200,
      prefillTokensPerSec: 9000,
      totalMs: 300,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
      effectiveTokensPerSec: null,
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Times `work`: the median wall time of one run, and the mean CPU time this process spent per run. On a shared,
 * loaded machine the wall figure grows with the load; the CPU figure is the cost itself.
 */
function timeUs(runs: number, work: () => void): { wallUs: number; cpuUs: number } {
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    work();
    samples.push((performance.now() - start) * 1000);
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wallUs: median(samples), cpuUs: (cpu.user + cpu.system) / runs };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function main(): Promise<void> {
  // 1. The streaming path: a meter observes tokens; the hub only samples the view when a display tick fires.
  const hub = new StatsHub({ clock: systemClock, scheduler: systemScheduler, endpoints: () => [endpoint] });
  for (let i = 0; i < 10_000; i++) hub.requestFinished(-i - 1, record(i));
  let viewCalls = 0;
  const meter = new SpeedMeter(systemClock, roughTokenCount);
  const view: LiveRequestView = {
    id: 1,
    task: 'refactor',
    route: () => route,
    liveTokensPerSec: () => {
      viewCalls++;
      return meter.liveTokensPerSec();
    },
    outputTokens: () => meter.outputTokens(),
  };
  let ticks = 0;
  let lastStatusText = '';
  let lastSnapshotBytes = 0;
  const subscription = hub.onDidChange(() => {
    ticks++;
    lastStatusText = renderStatus(hub.statusFacts(), {
      nowMs: systemClock.now(),
      completionsEnabled: true,
      slowThresholdTokensPerSec: 100,
    }).text;
    lastSnapshotBytes = JSON.stringify(hub.snapshot()).length;
  });
  const streamMs = 2_000;
  const tokensPerSec = 10_000;
  hub.requestStarted(view);
  meter.start();
  let tokens = 0;
  const streamStart = performance.now();
  // Tokens arrive at 10,000 tok/s in 1 ms batches, with the event loop free between batches (as with a socket).
  while (performance.now() - streamStart < streamMs) {
    // The first token goes out at once; the rest follow at the rate (a late first batch would read as a burst).
    const due = 1 + Math.floor(((performance.now() - streamStart) * tokensPerSec) / 1000);
    while (tokens < due) {
      meter.observe({ kind: 'text', text: ' tok' });
      tokens++;
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  hub.requestFinished(1, record(1));
  subscription.dispose();
  const hubCallsPerToken = viewCalls / tokens;

  // 2. One display tick with 10,000 requests kept: status text, and a full panel snapshot (cold after a new record, warm).
  const statusTickUs = timeUs(200, () => {
    renderStatus(hub.statusFacts(), {
      nowMs: systemClock.now(),
      completionsEnabled: true,
      slowThresholdTokensPerSec: 100,
    });
  });
  let n = 20_000;
  const snapshotColdUs = timeUs(50, () => {
    hub.requestFinished(-n++, record(n));
    JSON.stringify(hub.snapshot());
  });
  const snapshotWarmUs = timeUs(200, () => {
    JSON.stringify(hub.snapshot());
  });
  // At most 4 ticks a second, each a status render plus (panel open) a snapshot; spread over the tokens of that second.
  const tickCostPerSecondUs = 4 * (statusTickUs.cpuUs + snapshotColdUs.cpuUs);
  const perTokenUsAt1000 = tickCostPerSecondUs / 1_000;

  // 3. Per-request bookkeeping: requestStarted + requestFinished (ring append, listeners, coalescing).
  const bookkeepingHub = new StatsHub({ clock: systemClock, scheduler: systemScheduler });
  const sink: RequestRecord[] = [];
  bookkeepingHub.onDidRecord((r) => sink.push(r));
  const requests = 100_000;
  const records = Array.from({ length: 1000 }, (_, i) => record(i));
  const bookkeepingStart = performance.now();
  for (let i = 0; i < requests; i++) {
    bookkeepingHub.requestStarted({
      id: i,
      task: 'inline',
      route: () => route,
      liveTokensPerSec: () => null,
      outputTokens: () => 0,
    });
    bookkeepingHub.requestFinished(i, records[i % 1000] ?? record(i));
    if (sink.length > 1000) sink.length = 0;
  }
  const perRequestUs = ((performance.now() - bookkeepingStart) * 1000) / requests;
  bookkeepingHub.dispose();

  // 4. Redraw cap: requests finishing as fast as the event loop allows for 2 s; count change notifications per second.
  const floodHub = new StatsHub({ clock: systemClock, scheduler: systemScheduler });
  let notifications = 0;
  floodHub.onDidChange(() => notifications++);
  const floodStart = performance.now();
  let flooded = 0;
  while (performance.now() - floodStart < 2_000) {
    for (let i = 0; i < 50; i++) floodHub.requestFinished(flooded, records[flooded++ % 1000] ?? record(0));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const floodSeconds = (performance.now() - floodStart) / 1000;
  await new Promise<void>((resolve) => setTimeout(resolve, 300));
  floodHub.dispose();

  // 5. Memory held by 10,000 requests (the hub's ring), after garbage collection.
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const memoryHub = new StatsHub({ clock: systemClock, scheduler: systemScheduler });
  memoryHub.load(Array.from({ length: 10_000 }, (_, i) => JSON.parse(JSON.stringify(record(i)))));
  collectGarbage();
  const heapAfter = process.memoryUsage().heapUsed;
  const memoryMb = (heapAfter - heapBefore) / (1024 * 1024);
  const kept = memoryHub.size();
  memoryHub.dispose();

  // 6. The history file with 10,000 requests: size, flush time, load time.
  const dir = mkdtempSync(join(tmpdir(), 'bench-stats-'));
  try {
    const filePath = join(dir, 'speed-history.jsonl');
    const history = new SpeedHistory({
      files: nodeTextFiles,
      filePath,
      scheduler: systemScheduler,
      wallClockMs: () => Date.now(),
    });
    await history.load();
    for (let i = 0; i < 10_000; i++) history.append(record(i));
    const flushStart = performance.now();
    await history.flush();
    const flushMs = performance.now() - flushStart;
    const fileMb = statSync(filePath).size / (1024 * 1024);
    const loadStart = performance.now();
    const loaded = await new SpeedHistory({
      files: nodeTextFiles,
      filePath,
      scheduler: systemScheduler,
      wallClockMs: () => Date.now(),
    }).load();
    const loadMs = performance.now() - loadStart;

    const result = {
      loadAverage: round(loadavg()[0] ?? 0, 1),
      streaming: {
        tokens,
        tokensPerSec: Math.round(tokens / (streamMs / 1000)),
        hubCallsPerToken: round(hubCallsPerToken, 5),
        displayTicks: ticks,
        ticksPerSec: round(ticks / (streamMs / 1000), 2),
        lastStatusText,
        snapshotBytes: lastSnapshotBytes,
      },
      tickWithTenThousandKept: {
        statusRenderCpuUs: round(statusTickUs.cpuUs, 1),
        statusRenderWallUs: round(statusTickUs.wallUs, 1),
        snapshotColdCpuUs: round(snapshotColdUs.cpuUs, 1),
        snapshotColdWallUs: round(snapshotColdUs.wallUs, 1),
        snapshotWarmCpuUs: round(snapshotWarmUs.cpuUs, 1),
        snapshotWarmWallUs: round(snapshotWarmUs.wallUs, 1),
        perTokenUsAt1000TokPerSec: round(perTokenUsAt1000, 3),
        perTokenMsAt1000TokPerSec: round(perTokenUsAt1000 / 1000, 5),
        targetPerTokenMs: 0.05,
      },
      perRequestBookkeepingUs: round(perRequestUs, 2),
      redrawCap: {
        finishedRequests: flooded,
        notificationsPerSec: round(notifications / floodSeconds, 2),
        capPerSec: 4,
      },
      memory: {
        requestsKept: kept,
        heapMb: round(memoryMb, 2),
        bytesPerRequest: Math.round((heapAfter - heapBefore) / kept),
      },
      historyFile: {
        requests: loaded.records.length,
        fileMb: round(fileMb, 2),
        flushMs: round(flushMs, 1),
        loadMs: round(loadMs, 1),
      },
    };
    if (json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`bench:stats (load average ${result.loadAverage} on ${cpus().length} cores)`);
      console.log(
        `  streaming ${result.streaming.tokens} tokens at ${result.streaming.tokensPerSec} tok/s: ${result.streaming.hubCallsPerToken} hub calls per token, ${result.streaming.ticksPerSec} display ticks/s ("${lastStatusText}")`,
      );
      const tick = result.tickWithTenThousandKept;
      console.log(
        `  one tick with 10,000 kept (CPU µs; wall in brackets): status ${tick.statusRenderCpuUs} (${tick.statusRenderWallUs}), snapshot ${tick.snapshotColdCpuUs} (${tick.snapshotColdWallUs}) cold / ${tick.snapshotWarmCpuUs} (${tick.snapshotWarmWallUs}) warm, ${lastSnapshotBytes} bytes`,
      );
      console.log(
        `  => ${result.tickWithTenThousandKept.perTokenMsAt1000TokPerSec} ms per token at 1,000 tok/s (target <= 0.05 ms)`,
      );
      console.log(`  per-request bookkeeping: ${result.perRequestBookkeepingUs} µs`);
      console.log(
        `  redraw cap: ${result.redrawCap.notificationsPerSec} notifications/s while ${flooded} requests finished in ${round(floodSeconds, 1)} s (cap 4/s)`,
      );
      console.log(
        `  memory: ${result.memory.heapMb} MB for ${kept} requests (${result.memory.bytesPerRequest} bytes each)`,
      );
      console.log(
        `  history file: ${result.historyFile.fileMb} MB for ${result.historyFile.requests} requests; flush ${result.historyFile.flushMs} ms, load ${result.historyFile.loadMs} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  hub.dispose();
}

void main();
