import type { createTransport, HttpRequest, HttpResponse, Transport, TransportOptions } from '../core/stream/transport';

type CreateTransport = typeof createTransport;

function hasCreateTransport(value: unknown): value is { readonly createTransport: CreateTransport } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'createTransport' in value &&
    typeof value.createTransport === 'function'
  );
}

/** Loads dist/transport.js next to the extension bundle (a path esbuild leaves external). */
function loadTransportChunk(): CreateTransport {
  const loaded: unknown = require('./transport.js');
  if (!hasCreateTransport(loaded))
    throw new Error('dist/transport.js does not export createTransport; rebuild with `node esbuild.mjs`.');
  return loaded.createTransport;
}

/** A transport whose undici chunk is loaded on first use, or ahead of it by `preload()`. */
export interface LazyTransport extends Transport {
  /** Loads the chunk soon, in the background (call after activation, so the first request does not pay the load). */
  preload(): void;
}

/**
 * The extension's transport: the same `Transport`, with undici kept out of dist/extension.js (it alone is larger than
 * the 400 KB budget) and parsed after activation instead of during it.
 */
export function createLazyTransport(
  options: TransportOptions = {},
  load: () => CreateTransport = loadTransportChunk,
): LazyTransport {
  let transport: Transport | null = null;
  let closed = false;
  const ensure = (): Transport => {
    transport ??= load()(options);
    return transport;
  };
  return {
    // Async, so that a chunk that fails to load rejects the request instead of throwing at the caller.
    request: async (request: HttpRequest): Promise<HttpResponse> => ensure().request(request),
    warm: async (url: string): Promise<void> => {
      try {
        await ensure().warm(url);
      } catch {
        // A warm-up never throws (see Transport.warm), not even when the chunk is missing; the request will say why.
      }
    },
    get connectionsOpened(): number {
      return transport?.connectionsOpened ?? 0;
    },
    close: async (): Promise<void> => {
      closed = true;
      await transport?.close();
    },
    preload: (): void => {
      setTimeout(() => {
        if (closed) return;
        try {
          ensure();
        } catch {
          // Reported by the first request that needs it.
        }
      }, 0);
    },
  };
}
