// Helpers for the simulator's tests: plain undici fetch (not the extension's transport), timed reads, SSE and NDJSON
// parsing with eventsource-parser, and a raw node:http client that keeps socket reads apart.
import { request as httpRequest } from 'node:http';
import { createParser } from 'eventsource-parser';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import type { SimulatorOptions } from '../../../src/sim/simOptions';
import type { SimRequestLog } from '../../../src/sim/simRequestLog';

/** One dispatcher per test file, closed in afterAll. */
export function testAgent(): Agent {
  return new Agent({ keepAliveTimeout: 60_000 });
}

/**
 * One simulator for a whole test file: started before its tests (then `onStarted` gets it, and may warm it up), closed
 * after them together with the file's agent.
 */
export function simulatorForFile(
  options: SimulatorOptions,
  agent: Agent,
  onStarted: (sim: RunningSimulator) => Promise<void> | void,
): void {
  let running: RunningSimulator | null = null;
  beforeAll(async () => {
    running = await startSimulator(options);
    await onStarted(running);
  });
  afterAll(async () => {
    await running?.close();
    await agent.close();
  });
}

/** The request the simulator logged last. */
export function lastRequestOf(sim: RunningSimulator): SimRequestLog {
  const entry = sim.requests[sim.requests.length - 1];
  if (entry === undefined) throw new Error('no request logged');
  return entry;
}

/** A chunk of response body with the time it arrived (performance.now()). */
export interface TimedChunk {
  readonly atMs: number;
  readonly bytes: Uint8Array;
}

/** An SSE event (or NDJSON line, with `event` undefined) with the arrival time of the chunk that completed it. */
export interface TimedEvent {
  readonly event: string | undefined;
  readonly data: string;
  readonly atMs: number;
}

/** POSTs JSON and returns the response. */
export async function postJson(
  agent: Agent,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Awaited<ReturnType<typeof fetch>>> {
  return fetch(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

/** GETs a URL through the test agent. */
export async function getUrl(agent: Agent, url: string): Promise<Awaited<ReturnType<typeof fetch>>> {
  return fetch(url, { dispatcher: agent });
}

/** Reads a whole body chunk by chunk, stamping each chunk's arrival. */
export async function readTimed(body: AsyncIterable<Uint8Array> | null): Promise<TimedChunk[]> {
  const chunks: TimedChunk[] = [];
  if (body === null) return chunks;
  for await (const bytes of body) chunks.push({ atMs: performance.now(), bytes });
  return chunks;
}

/** Parses timed chunks as SSE with eventsource-parser. */
export function sseEvents(chunks: readonly TimedChunk[]): TimedEvent[] {
  const events: TimedEvent[] = [];
  let currentMs = 0;
  const parser = createParser({
    onEvent: (message) => events.push({ event: message.event, data: message.data, atMs: currentMs }),
  });
  const decoder = new TextDecoder();
  for (const chunk of chunks) {
    currentMs = chunk.atMs;
    parser.feed(decoder.decode(chunk.bytes, { stream: true }));
  }
  return events;
}

/** Parses timed chunks as NDJSON lines. */
export function ndjsonLines(chunks: readonly TimedChunk[]): TimedEvent[] {
  const lines: TimedEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for (const chunk of chunks) {
    buffer += decoder.decode(chunk.bytes, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim().length > 0) lines.push({ event: undefined, data: line, atMs: chunk.atMs });
      newline = buffer.indexOf('\n');
    }
  }
  return lines;
}

/** JSON.parse for tests: the result as a plain record (throws when it is not one). */
export function parseRecord(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`not a JSON object: ${text}`);
  return value as Record<string, unknown>;
}

/** Reads a nested field by path, for terse assertions on JSON shapes. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** OpenAI chat content text of one parsed chunk ('' when none). */
export function chatDelta(data: string): string {
  const content = field(parseRecord(data), 'choices', 0, 'delta', 'content');
  return typeof content === 'string' ? content : '';
}

/** A raw POST over node:http that records every socket read separately (for the split-utf8 fault). */
export function rawPost(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; reads: Buffer[]; error: Error | null }> {
  return new Promise((resolve) => {
    const reads: Buffer[] = [];
    let status = 0;
    const request = httpRequest(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        status = response.statusCode ?? 0;
        response.on('data', (chunk: Buffer) => reads.push(chunk));
        response.on('end', () => resolve({ status, reads, error: null }));
        response.on('error', (error) => resolve({ status, reads, error }));
      },
    );
    request.on('error', (error) => resolve({ status, reads, error }));
    request.end(JSON.stringify(body));
  });
}

/** Waits `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
