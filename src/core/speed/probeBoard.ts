import type { ResolvedEndpoint } from '../endpoint';
import { BACKEND_ERROR_REASONS } from '../errors';
import type { BackendErrorReason } from '../errors';
import type { ProbeRow, ProbeState, ProbeStatus } from './panelProtocol';
import type { ProbeResult } from '../stream/probe';
import { redact } from '../config/redact';

/** Probes one endpoint (the composition root binds `probeEndpoint` to the transport, clock and token counter). */
export type EndpointProber = (endpoint: ResolvedEndpoint, signal: AbortSignal) => Promise<ProbeResult>;

/** What a probe may tell the router's health book (`EndpointHealthBook`). */
export interface RestEnder {
  endRest(endpointId: string): void;
}

/**
 * A prober whose successful probe ends the endpoint's rest in the router's health book, so that "Probe Backends" (the
 * command and the panel's button) puts an endpoint that answers again back in use at once, rather than after its rest
 * (up to 5 minutes after a 429). A failed probe leaves the rest as it is.
 */
export function proberEndingRests(prober: EndpointProber, health: RestEnder): EndpointProber {
  return async (endpoint, signal) => {
    const result = await prober(endpoint, signal);
    if (result.ok) health.endRest(endpoint.id);
    return result;
  };
}

function errorReasonOf(reason: string): BackendErrorReason | null {
  return BACKEND_ERROR_REASONS.find((known) => known === reason) ?? null;
}

function emptyRow(endpoint: ResolvedEndpoint, status: ProbeStatus): ProbeRow {
  return {
    endpointId: endpoint.id,
    label: endpoint.label,
    status,
    ttftMs: null,
    decodeTokensPerSec: null,
    outputTokens: null,
    tokensSource: null,
    contextWindow: endpoint.contextWindow,
    fim: endpoint.fim === 'auto' ? null : endpoint.fim,
    errorReason: null,
    message: null,
  };
}

/** One probe result as a panel row; error text is redacted of the endpoint's key and anything key-like. */
export function probeRowOf(endpoint: ResolvedEndpoint, result: ProbeResult): ProbeRow {
  const secrets = endpoint.target.apiKey === undefined ? [] : [endpoint.target.apiKey];
  return {
    ...emptyRow(endpoint, result.ok ? 'ok' : 'error'),
    ttftMs: result.ttftMs,
    decodeTokensPerSec: result.decodeTokensPerSec,
    outputTokens: result.outputTokens,
    tokensSource: result.tokensSource,
    errorReason: result.error === null ? null : errorReasonOf(result.error.reason),
    message: result.error === null ? null : redact(result.error.message, secrets),
  };
}

/**
 * The "Probe backends" button's state: probes every configured endpoint one after another (so that one probe's load
 * does not slow the next on a small machine, and a rate limit is not hit by a burst), with every row visible from the
 * start and updated as it goes. A second press while a run is going does nothing.
 */
export class ProbeBoard {
  private rows: ProbeRow[] = [];
  private running = false;
  private startedAtEpochMs: number | null = null;
  private current: AbortController | null = null;

  constructor(
    private readonly wallClockMs: () => number,
    /** Called after every step, so the panel can send a fresh snapshot. */
    private readonly onChange: () => void,
    /** False when no prober is wired in: the panel shows the button disabled. */
    private readonly available = true,
  ) {}

  /** The state for the panel snapshot. */
  state(): ProbeState {
    return {
      available: this.available,
      running: this.running,
      startedAtEpochMs: this.startedAtEpochMs,
      rows: this.rows,
    };
  }

  /** Probes `endpoints` in order. Never rejects: a failing probe becomes an error row. */
  async run(endpoints: readonly ResolvedEndpoint[], prober: EndpointProber): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAtEpochMs = this.wallClockMs();
    this.rows = endpoints.map((endpoint) => emptyRow(endpoint, 'pending'));
    const controller = new AbortController();
    this.current = controller;
    this.onChange();
    try {
      for (const [index, endpoint] of endpoints.entries()) {
        if (controller.signal.aborted) break;
        this.setRow(index, emptyRow(endpoint, 'running'));
        let row: ProbeRow;
        try {
          row = probeRowOf(endpoint, await prober(endpoint, controller.signal));
        } catch (error) {
          row = {
            ...emptyRow(endpoint, 'error'),
            message: redact(error instanceof Error ? error.message : String(error)),
          };
        }
        this.setRow(index, row);
      }
    } finally {
      this.running = false;
      this.current = null;
      this.onChange();
    }
  }

  /**
   * Drops the results of endpoints that are no longer configured (same id and label), so that the panel never shows a
   * probe of a backend that was replaced. A run in progress is left alone: it probes what was configured when it began.
   */
  keepOnly(endpoints: readonly ResolvedEndpoint[]): void {
    if (this.running) return;
    const kept = this.rows.filter((row) =>
      endpoints.some((endpoint) => endpoint.id === row.endpointId && endpoint.label === row.label),
    );
    if (kept.length === this.rows.length) return;
    this.rows = kept;
    if (kept.length === 0) this.startedAtEpochMs = null;
    this.onChange();
  }

  /** Stops a run in progress (the current probe is aborted; the rest stay pending). */
  cancel(): void {
    this.current?.abort();
  }

  private setRow(index: number, row: ProbeRow): void {
    this.rows = this.rows.map((existing, i) => (i === index ? row : existing));
    this.onChange();
  }
}
