import { createParser } from 'eventsource-parser';

/** One framed message from a response body: an SSE event (with its `event:` name, if any) or one NDJSON line. */
export interface FramedMessage {
  readonly event: string | undefined;
  readonly data: string;
}

/** How a protocol frames its stream. */
export type Framing = 'sse' | 'ndjson';

/**
 * Turns raw body bytes into framed messages. Bytes are decoded as a UTF-8 stream, so a multi-byte character split
 * across reads is joined, never mangled. SSE is parsed by eventsource-parser (CRLF, comments, `data:` without a space
 * and multi-line data are its job); NDJSON is split on line ends. Messages from one read come out together.
 */
export async function* frameMessages(body: AsyncIterable<Uint8Array>, framing: Framing): AsyncGenerator<FramedMessage[]> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending: FramedMessage[] = [];
  const sse =
    framing === 'sse'
      ? createParser({
          onEvent: (message) => {
            pending.push({ event: message.event, data: message.data });
          },
        })
      : null;
  let lineRemainder = '';
  const takeLines = (text: string): void => {
    const lines = (lineRemainder + text).split('\n');
    lineRemainder = lines.pop() ?? '';
    for (const line of lines) {
      const trimmed = line.trim();
      if (trimmed.length > 0) pending.push({ event: undefined, data: trimmed });
    }
  };
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length === 0) continue;
    if (sse) sse.feed(text);
    else takeLines(text);
    if (pending.length > 0) {
      const ready = pending;
      pending = [];
      yield ready;
    }
  }
  const tail = decoder.decode();
  if (sse) {
    // Per the SSE rules an event cut off before its blank line is incomplete and is dropped; the caller then sees a
    // stream that ended without its end marker and reports the lost connection.
    sse.feed(tail);
  } else {
    takeLines(`${tail}\n`);
  }
  if (pending.length > 0) yield pending;
}
