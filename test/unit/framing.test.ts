import { describe, expect, it } from 'vitest';
import { frameMessages, type FramedMessage, type Framing } from '../../src/core/framing';

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
