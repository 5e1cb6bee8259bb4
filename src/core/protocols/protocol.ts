import type { EndpointTarget, GenerationRequest, ProtocolId } from '../endpoint';
import type { Framing, FramedMessage } from '../stream/framing';
import type { StreamEvent } from '../streamEvents';

/** The HTTP request a protocol builds for one generation. */
export interface ProtocolHttpRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Decodes one stream. A fresh decoder is made per request because decoders keep state. */
export interface StreamDecoder {
  /**
   * Decodes one framed message into zero or more events. Throws a `BackendError`: `malformed` for a message that does
   * not parse, or the mapped reason for an error the server reports inside the stream.
   */
  decode(message: FramedMessage): readonly StreamEvent[];
  /** True once the protocol's own end marker has been seen (`[DONE]`, `stop: true`, `done: true`, `message_stop`). */
  readonly finished: boolean;
}

/** One backend API: how to ask, and how to read the answer. */
export interface ProtocolAdapter {
  readonly id: ProtocolId;
  readonly framing: Framing;
  buildRequest(target: EndpointTarget, request: GenerationRequest): ProtocolHttpRequest;
  createDecoder(): StreamDecoder;
  /** A cheap GET on the same origin, used to open connections ahead of need. */
  warmUrl(target: EndpointTarget): string;
}
