import type { ServerResponse } from 'node:http';
import type { Clock } from '../core/clock';
import type { SimFault } from './simOptions';
import { updateWrittenRate, type MutableSimRequestLog } from './simRequestLog';
import type { PlannedEvent } from './tokenPieces';
import type { WireContext, WireFormat, WireSummary } from './wire/wireFormat';

// The pause between the two halves of a multi-byte character in the split-utf8 fault, in ms: long enough that the
// client surely reads them in two reads (TCP_NODELAY is on), short enough not to slow a test down.
const SPLIT_GAP_MS = 15;

/** What a paced stream needs. */
export interface PacedStreamInput {
  readonly response: ServerResponse;
  readonly wire: WireFormat;
  readonly context: WireContext;
  readonly summary: WireSummary;
  readonly events: readonly PlannedEvent[];
  /** The schedule's origin: when the request body had arrived, in clock ms. */
  readonly startMs: number;
  readonly ttftMs: number;
  readonly tokensPerSec: number;
  /**
   * When each token is due after token 0, in ms, when tokens do not all take the same time (accepted prediction tokens
   * stream faster); without it token i is due i / rate after token 0.
   */
  readonly tokenOffsetsMs?: ArrayLike<number>;
  readonly fault: SimFault | null;
  readonly record: MutableSimRequestLog;
  readonly clock: Clock;
  /** Called once when the stream is over for the simulator (finished, destroyed, or left by the client). */
  readonly onDone: () => void;
}

/** True when `text` has a character that takes more than one UTF-8 byte. */
export function hasMultiByteChar(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included, on purpose.
  return /[^\x00-\x7f]/.test(text);
}

/** Splits an event's bytes inside its first multi-byte character, or returns null when it has none. */
export function splitInsideMultiByteChar(event: string): [Buffer, Buffer] | null {
  const bytes = Buffer.from(event, 'utf8');
  // A lead byte of a multi-byte sequence is 0b11xxxxxx; cutting right after it leaves both halves invalid UTF-8.
  const lead = bytes.findIndex((byte) => byte >= 0xc0);
  if (lead < 0) return null;
  return [bytes.subarray(0, lead + 1), bytes.subarray(lead + 1)];
}

/** Sends a stream's status and headers at once (before the first event, which may be a while away). */
export function writeStreamHeaders(response: ServerResponse, wire: WireFormat): void {
  response.writeHead(200, {
    'content-type': wire.contentType,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  response.flushHeaders();
}

/**
 * Writes a streamed response on schedule: token i is due at start + TTFT + i / rate, so pacing follows the clock,
 * not a sleep per token. Each timer tick writes every event that is due, then sleeps until the next one.
 */
export class PacedStream {
  private readonly input: PacedStreamInput;
  private nextEvent = 0;
  private timer: NodeJS.Timeout | undefined;
  private openingSent = false;
  private faultApplied = false;
  private splitPending: boolean;
  private waitingForDrain = false;
  private finished = false;
  /**
   * Where token 0 of the decode schedule sits, in clock ms. It starts at start + TTFT and is re-anchored at the first
   * write, so that a late first timer (the event loop was busy) shifts the TTFT a little but never bunches the
   * following tokens: the decode rate stays the rate asked for.
   */
  private decodeOriginMs: number;

  constructor(input: PacedStreamInput) {
    this.input = input;
    this.splitPending = input.fault?.kind === 'split-utf8';
    this.decodeOriginMs = input.startMs + input.ttftMs;
  }

  /**
   * Sends the headers unless they went out already (while the request waited for a slot), and the opening events when
   * a role chunk goes first, then starts the schedule.
   */
  start(): void {
    const { response, wire, context } = this.input;
    response.on('close', () => this.onClose());
    if (!response.headersSent) writeStreamHeaders(response, wire);
    if (context.roleChunk) this.sendOpening();
    this.scheduleAt(this.dueMs(0));
  }

  /** Stops all timers (the server is closing). */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.finish();
  }

  private dueMs(eventIndex: number): number {
    const event = this.input.events[eventIndex];
    const token = event === undefined ? Math.max(0, this.input.summary.completionTokens - 1) : event.lastToken;
    return this.decodeOriginMs + this.offsetMs(token);
  }

  /** How long after token 0 token `token` is due, in ms. */
  private offsetMs(token: number): number {
    const offsets = this.input.tokenOffsetsMs;
    if (offsets !== undefined && token < offsets.length) return offsets[token] ?? 0;
    return (token * 1000) / this.input.tokensPerSec;
  }

  private scheduleAt(dueMs: number): void {
    if (this.finished) return;
    // Node timers have 1 ms granularity and may fire a little early; an early tick finds nothing due and re-arms.
    const delayMs = Math.max(1, Math.ceil(dueMs - this.input.clock.now()));
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private sendOpening(): void {
    if (this.openingSent) return;
    this.openingSent = true;
    for (const event of this.input.wire.opening(this.input.context)) this.input.response.write(event);
  }

  /** Applies an "after N tokens" fault once N tokens are out (or all are). Returns true when the stream must stop. */
  private applyFaultIfDue(): boolean {
    const { fault, record } = this.input;
    if (fault === null || this.faultApplied || !('afterTokens' in fault)) return false;
    const allWritten = this.nextEvent >= this.input.events.length;
    if (record.tokensWritten < fault.afterTokens && !allWritten) return false;
    this.faultApplied = true;
    const response = this.input.response;
    switch (fault.kind) {
      case 'malformed':
        this.sendOpening();
        response.write(this.input.wire.malformed());
        return false;
      case 'stall':
        // Write nothing more; the socket stays open until the client leaves (then the outcome is `client-left`).
        record.outcome = 'stalled';
        return true;
      case 'disconnect': {
        record.outcome = 'server-disconnected';
        record.endMs = this.input.clock.now();
        this.finish();
        // Node corks a response's socket until the next tick; destroy only after what was written has gone to the
        // kernel, so the client surely receives exactly N tokens before the connection drops.
        const socket = response.socket;
        setImmediate(() => {
          if (socket === null) return;
          if (socket.writableLength === 0) socket.destroy();
          else socket.once('drain', () => socket.destroy());
        });
        return true;
      }
    }
  }

  private tick(): void {
    this.timer = undefined;
    if (this.finished || this.waitingForDrain) return;
    const { response, wire, context, events, record, clock } = this.input;
    if (this.applyFaultIfDue()) return;
    const now = clock.now();
    while (this.nextEvent < events.length && this.dueMs(this.nextEvent) <= now) {
      const event = events[this.nextEvent];
      if (event === undefined) break;
      const isFirst = this.nextEvent === 0;
      if (isFirst) this.sendOpening();
      const data = wire.content(context, event, isFirst, event.lastToken + 1);
      this.nextEvent += 1;
      const writtenAt = clock.now();
      if (isFirst) {
        record.firstTokenMs = writtenAt;
        this.decodeOriginMs = writtenAt - this.offsetMs(event.lastToken);
      }
      record.lastTokenMs = writtenAt;
      record.tokensWritten = event.lastToken + 1;
      record.eventsWritten += 1;
      record.textWritten += event.text;
      updateWrittenRate(record);
      if (this.splitPending && hasMultiByteChar(event.text)) {
        const halves = splitInsideMultiByteChar(data);
        if (halves !== null) {
          this.splitPending = false;
          response.write(halves[0]);
          this.timer = setTimeout(() => {
            response.write(halves[1]);
            this.tick();
          }, SPLIT_GAP_MS);
          return;
        }
      }
      const flushed = response.write(data);
      if (this.applyFaultIfDue()) return;
      if (!flushed) {
        // Backpressure: the client reads slower than we write. Resume (and catch up on the schedule) on drain.
        this.waitingForDrain = true;
        response.once('drain', () => {
          this.waitingForDrain = false;
          this.tick();
        });
        return;
      }
    }
    if (this.nextEvent < events.length) {
      this.scheduleAt(this.dueMs(this.nextEvent));
      return;
    }
    if (this.applyFaultIfDue()) return;
    this.sendOpening();
    for (const closing of wire.closing(context, this.input.summary)) response.write(closing);
    record.finishReason = this.input.summary.finish;
    record.outcome = 'completed';
    response.end(() => {
      record.endMs = clock.now();
      this.finish();
    });
  }

  private onClose(): void {
    const { record, clock } = this.input;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (record.outcome === 'in-progress' || record.outcome === 'stalled') {
      // The client left before the end: stop generating at once and record what it never got.
      const now = clock.now();
      record.outcome = 'client-left';
      record.clientDisconnected = true;
      record.clientDisconnectedMs = now;
      record.endMs = now;
      record.tokensNotGenerated = record.tokensPlanned - record.tokensWritten;
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.input.onDone();
  }
}
