// `npm run --silent bench:stream -- [--json]`
// Reports (never asserts) what the streaming path costs: the client's overhead over the server's TTFT on a warm loopback
// connection, parse throughput, connections opened around aborted requests, and the meter's error at each rate.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock';
import type { EndpointTarget } from '../core/endpoint';
import { frameMessages } from '../core/stream/framing';
import { generate } from '../core/stream/generate';
import { SpeedMeter } from '../core/stream/meter';
import { protocolFor } from '../core/protocols/registry';
import { countTokens } from '../core/stream/tokenCount';
import { createTransport, type Transport } from '../core/stream/transport';
import { startSimulator, type RunningSimulator } from '../sim/simulator';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** Client TTFT minus the simulator's own (first write - request arrival), same process and clock, one request at a time. */
async function measureOverhead(sim: RunningSimulator, transport: Transport, target: EndpointTarget, samples: number) {
  const overheads: number[] = [];
  await transport.warm(`${sim.baseUrl}/health`);
  for (let i = 0; i < samples + 10; i++) {
    const tag = `overhead-${i}`;
    const meter = new SpeedMeter(systemClock, countTokens);
    meter.start();
    for await (const event of generate(transport, target, {
      prompt: `// ${tag}\n`,
      maxTokens: 4,
      extraHeaders: { 'x-bench-id': tag, 'x-sim-ttft-ms': '2' },
    })) {
      meter.observe(event);
    }
    const clientTtft = meter.ttftMs();
    const entry = sim.requests.find((request) => request.headers['x-bench-id'] === tag);
    if (i < 10 || clientTtft === null || !entry || entry.firstTokenMs === null) continue; // the first ten warm up the JIT
    // The client's clock started before sending, the server's at arrival: the difference is everything the client and
    // the loopback add (serialising, the write, the read, parsing, decoding).
    overheads.push(clientTtft - (entry.firstTokenMs - entry.arrivalMs));
  }
  overheads.sort((a, b) => a - b);
  return { p50: round(percentile(overheads, 50)), p99: round(percentile(overheads, 99)), samples: overheads.length };
}

/** Framing + decoding throughput on an in-memory OpenAI chat stream cut into 16 KB reads. */
async function measureParse(events: number) {
  const chunk = (index: number): string =>
    `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1763900000,"model":"m","choices":[{"index":0,"delta":{"content":" token${index % 97}"},"finish_reason":null}]}\n\n`;
  const text = Array.from({ length: events }, (_, index) => chunk(index)).join('') + 'data: [DONE]\n\n';
  const bytes = new TextEncoder().encode(text);
  const readSize = 16_384;
  async function* reads(): AsyncGenerator<Uint8Array> {
    for (let offset = 0; offset < bytes.length; offset += readSize) yield bytes.subarray(offset, offset + readSize);
  }
  const decoder = protocolFor('openai-chat').createDecoder();
  let decoded = 0;
  const start = performance.now();
  for await (const batch of frameMessages(reads(), 'sse')) {
    for (const message of batch) decoded += decoder.decode(message).length;
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    eventsPerSec: Math.round(events / seconds),
    megabytesPerSec: round(bytes.length / 1e6 / seconds, 1),
    decoded,
  };
}

/**
 * 100 streamed requests over HTTP/1.1, each aborted after a few chunks. A request that arrives on a socket the server
 * accepted AFTER the client started that request waited for a connect (same process, same clock); spare connections are
 * meant to make that never happen.
 */
async function measureAborts(requests: number) {
  const acceptedAtMs = new WeakMap<Socket, number>();
  let requestStartedMs = 0;
  let waitedForConnect = 0;
  let accepted = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      response.end('{"status":"ok"}');
      return;
    }
    if ((acceptedAtMs.get(request.socket) ?? 0) >= requestStartedMs) waitedForConnect += 1;
    request.resume();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => response.write('data: {"content":"x","stop":false}\n\n'), 1);
    response.on('close', () => clearInterval(timer));
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    acceptedAtMs.set(socket, performance.now());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const transport = createTransport();
  const target: EndpointTarget = { baseUrl: `http://127.0.0.1:${port}`, protocol: 'llamacpp-infill', model: 'bench' };
  await transport.warm(`${target.baseUrl}/health`);
  const acceptedBefore = accepted;
  for (let i = 0; i < requests; i++) {
    const controller = new AbortController();
    let chunks = 0;
    requestStartedMs = performance.now();
    try {
      for await (const event of generate(
        transport,
        target,
        { prompt: 'x', maxTokens: 100 },
        { signal: controller.signal },
      )) {
        if (event.kind === 'text' && ++chunks === 3) controller.abort();
      }
    } catch {
      // Aborted, as intended.
    }
    // A person's next keystroke comes some milliseconds later; the replacement connection opens meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await transport.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    newConnectionsPer100Aborts: round(((accepted - acceptedBefore) * 100) / requests, 1),
    requestsThatWaitedForConnect: waitedForConnect,
  };
}

/** The meter against the simulator's own record of what it wrote, and against the configured rate. */
async function measureMeter(sim: RunningSimulator, transport: Transport, target: EndpointTarget) {
  const plan: { rate: number; tokens: number }[] = [
    { rate: 10, tokens: 31 },
    { rate: 100, tokens: 201 },
    { rate: 1000, tokens: 1001 },
    { rate: 3000, tokens: 2001 },
    { rate: 10000, tokens: 4001 },
  ];
  const errorVsWritten: Record<string, number> = {};
  const errorVsConfigured: Record<string, number> = {};
  const measuredRates: Record<string, number> = {};
  for (const { rate, tokens } of plan) {
    const tag = `meter-${rate}`;
    const meter = new SpeedMeter(systemClock, countTokens);
    meter.start();
    const headers = {
      'x-bench-id': tag,
      'x-sim-tokens-per-sec': String(rate),
      'x-sim-ttft-ms': '200',
      'x-sim-usage': '0',
    };
    for await (const event of generate(transport, target, {
      prompt: `// ${tag}\n`,
      maxTokens: tokens,
      extraHeaders: headers,
    }))
      meter.observe(event);
    const measured = meter.finish().decodeTokensPerSec ?? Number.NaN;
    const written =
      sim.requests.find((request) => request.headers['x-bench-id'] === tag)?.writtenTokensPerSec ?? Number.NaN;
    measuredRates[rate] = round(measured, 1);
    errorVsWritten[rate] = round((Math.abs(measured - written) / written) * 100, 2);
    errorVsConfigured[rate] = round((Math.abs(measured - rate) / rate) * 100, 2);
  }
  return { errorVsWritten, errorVsConfigured, measuredRates };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } }, strict: true });
  const sim = await startSimulator({ ttftMs: 2, tokensPerSec: 1000 });
  const transport = createTransport();
  const target: EndpointTarget = { baseUrl: sim.baseUrl, protocol: 'llamacpp-infill', model: 'sim-coder' };
  try {
    const overheadMs = await measureOverhead(sim, transport, target, 200);
    const parse = await measureParse(200_000);
    const aborts = await measureAborts(100);
    const meter = await measureMeter(sim, transport, target);
    const result = {
      overheadMs,
      parseEventsPerSec: parse.eventsPerSec,
      parseMegabytesPerSec: parse.megabytesPerSec,
      newConnectionsPer100Aborts: aborts.newConnectionsPer100Aborts,
      requestsThatWaitedForConnectAfterAbort: aborts.requestsThatWaitedForConnect,
      meterErrorPct: meter.errorVsWritten,
      meterErrorVsConfiguredRatePct: meter.errorVsConfigured,
      measuredDecodeTokensPerSec: meter.measuredRates,
      targets: {
        overheadP50Ms: 2,
        overheadP99Ms: 8,
        parseEventsPerSec: 200_000,
        meterErrorPct: 2,
        requestsThatWaitedForConnectAfterAbort: 0,
      },
      node: process.version,
      loadAverage: (await import('node:os')).loadavg().map((load) => round(load, 2)),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    }
  } finally {
    await transport.close();
    await sim.close();
  }
}

void main();
