import { describe, expect, it } from 'vitest';
import { BackendError } from '../../../../src/core/errors';
import {
  NdjsonLineSplitter,
  frameMessages,
  type FramedMessage,
  type Framing,
} from '../../../../src/core/stream/framing';

const encoder = new TextEncoder();

async function* chunksOf(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
}

async function collect(bytes: Uint8Array, cuts: readonly number[], framing: Framing): Promise<FramedMessage[]> {
  const messages: FramedMessage[] = [];
  for await (const batch of frameMessages(chunksOf(bytes, cuts), framing)) messages.push(...batch);
  return messages;
}

/** Every way to cut the body in two, plus a cut after every byte. */
function cutPlans(length: number): number[][] {
  const plans: number[][] = [[]];
  for (let i = 1; i < length; i++) plans.push([i]);
  plans.push(Array.from({ length: length - 1 }, (_, i) => i + 1));
  return plans;
}

describe('frameMessages (SSE through eventsource-parser)', () => {
  const body = encoder.encode(
    ': a comment line\r\n' +
      'data: {"a":"h\u00e9llo \u4e16\u754c \ud83d\ude80"}\r\n\r\n' +
      'data:{"no":"space"}\n\n' +
      'event: message_delta\ndata: {"multi":\ndata: "line"}\n\n' +
      'data: [DONE]\n\n',
  );
  const expected: FramedMessage[] = [
    { event: undefined, data: '{"a":"h\u00e9llo \u4e16\u754c \ud83d\ude80"}' },
    { event: undefined, data: '{"no":"space"}' },
    { event: 'message_delta', data: '{"multi":\n"line"}' },
    { event: undefined, data: '[DONE]' },
  ];

  it('gives the same events however the bytes are cut (CRLF, comments, no space, multi-line, split UTF-8)', async () => {
    for (const cuts of cutPlans(body.length)) {
      expect(await collect(body, cuts, 'sse')).toEqual(expected);
    }
  });

  it('drops an event cut off before its blank line (the caller then reports the lost connection)', async () => {
    const truncated = encoder.encode('data: {"content":"a"}\n\ndata: {"content":"b');
    expect(await collect(truncated, [], 'sse')).toEqual([{ event: undefined, data: '{"content":"a"}' }]);
  });

  it('yields the events of one read together', async () => {
    const batches: number[] = [];
    const oneRead = encoder.encode('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    for await (const batch of frameMessages(chunksOf(oneRead, []), 'sse')) batches.push(batch.length);
    expect(batches).toEqual([3]);
  });
});

describe('frameMessages (NDJSON)', () => {
  const body = encoder.encode('{"response":"\u00e9\u4e16"}\r\n\n{"done":false}\n{"done":true}');

  it('splits lines however the bytes are cut, keeping a last line without a newline', async () => {
    for (const cuts of cutPlans(body.length)) {
      expect((await collect(body, cuts, 'ndjson')).map((message) => message.data)).toEqual([
        '{"response":"\u00e9\u4e16"}',
        '{"done":false}',
        '{"done":true}',
      ]);
    }
  });
});

describe('frameMessages limits (issue 14, item 5)', () => {
  const MIB = 1_048_576;

  async function failureOf(bodyParts: readonly string[], framing: Framing, maxMessageChars?: number): Promise<unknown> {
    async function* body(): AsyncGenerator<Uint8Array> {
      for (const part of bodyParts) yield encoder.encode(part);
    }
    try {
      for await (const _batch of frameMessages(
        body(),
        framing,
        maxMessageChars === undefined ? undefined : { maxMessageChars },
      )) {
        // Only the failure matters here.
      }
    } catch (error) {
      return error;
    }
    return null;
  }

  it('scans each character of an 8 MB line once, whatever the 64 KB reads (re-splitting the leftover was quadratic)', () => {
    const splitter = new NdjsonLineSplitter(Number.POSITIVE_INFINITY);
    const read = 'x'.repeat(64 * 1024);
    const reads = (8 * MIB) / read.length;
    for (let i = 0; i < reads; i++) expect(splitter.push(read)).toEqual([]);
    expect(splitter.scannedChars).toBe(8 * MIB);
    const lines = splitter.push('}\n{"next":1}\n{"par');
    expect(lines.map((line) => line.length)).toEqual([8 * MIB + 1, 10]);
    // Every character was searched for a line end exactly once: linear work, however the body is cut.
    expect(splitter.scannedChars).toBe(8 * MIB + 18);
    expect(splitter.finish()).toEqual(['{"par']);
  });

  it('fails an NDJSON line that never ends past the cap as malformed, saying the event was oversized', async () => {
    const reads = Array.from({ length: 40 }, () => 'x'.repeat(64 * 1024));
    const error = await failureOf(['{"response":"a"}\n', ...reads], 'ndjson');
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ reason: 'malformed' });
    expect(String((error as Error).message)).toMatch(/oversized event/);
  });

  it('fails an SSE event past the cap as malformed: an unterminated line, and data lines never closed by a blank line', async () => {
    const longLine = ['data: {"a":1}\n\n', 'data: ', ...Array.from({ length: 40 }, () => 'y'.repeat(64 * 1024))];
    const longEvent = ['data: {"a":1}\n\n', ...Array.from({ length: 40 }, () => `data: ${'z'.repeat(64 * 1024)}\n`)];
    for (const parts of [longLine, longEvent]) {
      const error = await failureOf(parts, 'sse');
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ reason: 'malformed' });
      expect(String((error as Error).message)).toMatch(/oversized event/);
    }
  });

  it('passes events and lines up to the cap, and many small events whatever their total', async () => {
    const underCap = 'w'.repeat(1000);
    expect(await failureOf([`data: ${underCap}\n\n`], 'sse', 1100)).toBeNull();
    expect(await failureOf([`${underCap}\n`], 'ndjson', 1000)).toBeNull();
    expect(await failureOf([underCap, 'w'], 'ndjson', 1000)).toMatchObject({ reason: 'malformed' });
    const manyEvents = Array.from({ length: 3000 }, () => `data: ${'v'.repeat(1000)}\n\n`);
    expect(await failureOf(manyEvents, 'sse', 2000)).toBeNull();
  });
});
