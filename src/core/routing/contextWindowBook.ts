import type { ContextWindowInfo } from './contextWindow';
import type { ResolvedEndpoint } from '../endpoint';

/** Detects one endpoint's window (src/core/routing/contextWindow.ts `detectContextWindow` bound to the transport). */
export type DetectWindow = (endpoint: ResolvedEndpoint, signal: AbortSignal) => Promise<ContextWindowInfo>;

/**
 * The context window of every endpoint as the router should use it: what the endpoint says (`/v1/models`, `/props`,
 * `/api/show`), else the preset or setting. Detection runs in the background on each configuration change; until it
 * answers, the configured value stands. Results are keyed by endpoint id, base URL and model, so a changed model is
 * detected again.
 */
export class ContextWindowBook {
  private readonly known = new Map<string, ContextWindowInfo>();
  private controller: AbortController | null = null;

  constructor(
    private readonly detect: DetectWindow,
    /** Told about each detected window (the log shows it). */
    private readonly onDetected: (endpoint: ResolvedEndpoint, info: ContextWindowInfo) => void = () => undefined,
  ) {}

  private static keyOf(endpoint: ResolvedEndpoint): string {
    return `${endpoint.id}|${endpoint.target.baseUrl}|${endpoint.target.model}`;
  }

  /** Starts detection for every endpoint not known yet (cancelling a previous round); resolves when all answered. */
  async refresh(endpoints: readonly ResolvedEndpoint[]): Promise<void> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    await Promise.all(
      endpoints
        .filter((endpoint) => !this.known.has(ContextWindowBook.keyOf(endpoint)))
        .map(async (endpoint) => {
          try {
            const info = await this.detect(endpoint, controller.signal);
            if (controller.signal.aborted) return;
            this.known.set(ContextWindowBook.keyOf(endpoint), info);
            this.onDetected(endpoint, info);
          } catch {
            // Aborted by a newer round, or the endpoint is down: the configured value stands.
          }
        }),
    );
  }

  /** The window to route with: detected, else configured (preset or setting), else null. */
  windowOf(endpoint: ResolvedEndpoint): number | null {
    return this.known.get(ContextWindowBook.keyOf(endpoint))?.contextWindow ?? endpoint.contextWindow;
  }

  /** What is known about an endpoint's window and where it came from (for the panel and the log). */
  infoOf(endpoint: ResolvedEndpoint): ContextWindowInfo {
    return (
      this.known.get(ContextWindowBook.keyOf(endpoint)) ?? {
        contextWindow: endpoint.contextWindow,
        source: endpoint.contextWindow === null ? 'unknown' : 'configured',
        detail:
          endpoint.contextWindow === null ? 'not detected yet, none configured' : 'not detected yet; configured value',
      }
    );
  }

  /** Stops any detection in flight. */
  dispose(): void {
    this.controller?.abort();
  }
}
