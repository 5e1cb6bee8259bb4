import { createParser, type ParseError } from 'eventsource-parser';
import { BackendError } from '../errors';

/** One framed message from a response body: an SSE event (with its `event:` name, if any) or one NDJSON line. */
export interface FramedMessage {
  readonly event: string | undefined;
  readonly data: string;
}

/** How a protocol frames its stream. */
export type Framing = 'sse' | 'ndjson';

/** Limits of `frameMessages`. */
export interface FramingOptions {
  /**
   * Longest message held while it is still incomplete, in characters (an SSE event's buffered lines and data, or one
   * NDJSON line). Past it the stream fails as `malformed`: a server that never ends its line must not fill memory.
   */
  readonly maxMessageChars: number;
}

/** One event or line may hold this many characters by default (1 MiB); `generate` raises it for prompts that are echoed. */
export const DEFAULT_MAX_MESSAGE_CHARS = 1_048_576;

function oversizedMessage(maxMessageChars: number): BackendError {
  return new BackendError(
    'malformed',
    `The server sent an oversized event (over ${maxMessageChars.toLocaleString('en-US')} characters without an end); the request was stopped.`,
    { limit: 'event-size' },
  );
}

/**
 * Splits decoded text into lines, scanning each character once: only new text is searched for a line end, and the
 * unfinished line is kept as a list of pieces that are joined once, when its end arrives. (Re-splitting the whole
 * leftover on every read was quadratic: an 8 MB line without a newline held the extension host for seconds.)
 */
export class NdjsonLineSplitter {
  private pieces: string[] = [];
  private pendingChars = 0;
  private scanned = 0;

  constructor(private readonly maxLineChars: number = DEFAULT_MAX_MESSAGE_CHARS) {}

  /** Characters searched for a line end so far: equal to the characters pushed, however the text was cut. */
  get scannedChars(): number {
    return this.scanned;
  }

  /** Takes the next piece of text; returns the lines it completed (trimmed, empty ones dropped). Throws past the cap. */
  push(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      this.pieces.push(text.slice(start, newline));
      const line = this.pieces.join('').trim();
      this.pieces = [];
      this.pendingChars = 0;
      if (line.length > 0) lines.push(line);
      start = newline + 1;
    }
    this.scanned += text.length;
    if (start < text.length) {
      this.pieces.push(start === 0 ? text : text.slice(start));
      this.pendingChars += text.length - start;
      if (this.pendingChars > this.maxLineChars) {
        this.pieces = [];
        throw oversizedMessage(this.maxLineChars);
      }
    }
    return lines;
  }

  /** The last line, when the body ended without a newline. */
  finish(): string[] {
    return this.push('\n');
  }
}

/**
 * Turns raw body bytes into framed messages. Bytes are decoded as a UTF-8 stream, so a multi-byte character split
 * across reads is joined, never mangled. SSE is parsed by eventsource-parser (CRLF, comments, `data:` without a space
 * and multi-line data are its job; it keeps an unfinished line as fragments, so it is linear too); NDJSON is split on
 * line ends. Messages from one read come out together. A message larger than `maxMessageChars` fails the stream as
 * `malformed`.
 */
export async function* frameMessages(
  body: AsyncIterable<Uint8Array>,
  framing: Framing,
  options: FramingOptions = { maxMessageChars: DEFAULT_MAX_MESSAGE_CHARS },
): AsyncGenerator<FramedMessage[]> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending: FramedMessage[] = [];
  let oversized = false;
  const sse =
    framing === 'sse'
      ? createParser({
          onEvent: (message) => {
            pending.push({ event: message.event, data: message.data });
          },
          // Unknown fields and bad `retry:` values are ignored, as the SSE rules say; only the size cap ends the stream.
          onError: (error: ParseError) => {
            if (error.type === 'max-buffer-size-exceeded') oversized = true;
          },
          maxBufferSize: options.maxMessageChars,
        })
      : null;
  const lines = sse ? null : new NdjsonLineSplitter(options.maxMessageChars);
  const take = (text: string): void => {
    if (sse) {
      sse.feed(text);
      if (oversized) throw oversizedMessage(options.maxMessageChars);
    } else if (lines) {
      for (const line of lines.push(text)) pending.push({ event: undefined, data: line });
    }
  };
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length === 0) continue;
    take(text);
    if (pending.length > 0) {
      const ready = pending;
      pending = [];
      yield ready;
    }
  }
  const tail = decoder.decode();
  // Per the SSE rules an event cut off before its blank line is incomplete and is dropped; the caller then sees a
  // stream that ended without its end marker and reports the lost connection. An NDJSON line without a newline counts.
  if (tail.length > 0) take(tail);
  if (lines) for (const line of lines.finish()) pending.push({ event: undefined, data: line });
  if (pending.length > 0) yield pending;
}
