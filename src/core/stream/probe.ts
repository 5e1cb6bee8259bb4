import type { Clock } from '../clock';
import type { EndpointTarget, GenerationRequest, ProtocolId } from '../endpoint';
import { BackendError } from '../errors';
import { generate } from './generate';
import { SpeedMeter, type TokenCounter } from './meter';
import type { TokensSource } from '../requestStats';
import { DEFAULT_DEADLINE_MS } from './streamLimits';
import type { Transport } from './transport';

/** The probe's answer, as the CLI prints it with `--json` and the speed panel shows it. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly protocol: ProtocolId;
  readonly model: string;
  readonly ttftMs: number | null;
  readonly decodeTokensPerSec: number | null;
  readonly outputTokens: number;
  readonly tokensSource: TokensSource;
  readonly promptTokens: number | null;
  readonly totalMs: number;
  readonly error: {
    readonly reason: string;
    readonly status: number | null;
    readonly retryAfterMs: number | null;
    readonly message: string;
  } | null;
}

/** Options of one probe. */
export interface ProbeOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly countTokens: TokenCounter;
  readonly maxTokens?: number;
  readonly idleTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** Wall time for the whole probe in ms (default `DEFAULT_DEADLINE_MS.probe`). */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
}

/** Long enough that a 1,000 tok/s decode spans a quarter second, so timer jitter does not swing the figure. */
const DEFAULT_PROBE_TOKENS = 256;

const PROBE_PREFIX =
  '// A small TypeScript module of string helpers.\nexport function slugify(text: string): string {\n';
const PROBE_SUFFIX = '\n}\n';

/** The probe's request: a code task the protocol can answer natively (fill-in-the-middle or chat). */
function probeRequest(protocol: ProtocolId, maxTokens: number): GenerationRequest {
  const isFillInTheMiddle =
    protocol === 'llamacpp-infill' || protocol === 'openai-completions' || protocol === 'ollama-generate';
  if (isFillInTheMiddle) return { prompt: PROBE_PREFIX, suffix: PROBE_SUFFIX, maxTokens, temperature: 0 };
  return {
    messages: [
      {
        role: 'user',
        content: `Complete this TypeScript function body; answer with code only.\n\n${PROBE_PREFIX}${PROBE_SUFFIX}`,
      },
    ],
    maxTokens,
    temperature: 0,
  };
}

/**
 * Sends one small code request to an endpoint and measures it with the same meter as every other request:
 * TTFT, decode tokens/s (TTFT excluded), output tokens (server-counted when the server says), total time.
 */
export async function probeEndpoint(target: EndpointTarget, options: ProbeOptions): Promise<ProbeResult> {
  const meter = new SpeedMeter(options.clock, options.countTokens);
  let error: BackendError | null = null;
  meter.start();
  try {
    const events = generate(
      options.transport,
      target,
      probeRequest(target.protocol, options.maxTokens ?? DEFAULT_PROBE_TOKENS),
      {
        signal: options.signal,
        idleTimeoutMs: options.idleTimeoutMs,
        headersTimeoutMs: options.headersTimeoutMs,
        deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS.probe,
      },
    );
    for await (const event of events) meter.observe(event);
  } catch (caught) {
    error = caught instanceof BackendError ? caught : new BackendError('network', String(caught), { cause: caught });
  }
  const stats = meter.finish();
  return {
    ok: error === null,
    protocol: target.protocol,
    model: target.model,
    ttftMs: stats.ttftMs,
    decodeTokensPerSec: stats.decodeTokensPerSec,
    outputTokens: stats.outputTokens,
    tokensSource: stats.tokensSource,
    promptTokens: stats.promptTokens,
    totalMs: stats.totalMs,
    error: error === null ? null : error.toJSON(),
  };
}
