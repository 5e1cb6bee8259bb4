// `npm run --silent probe -- --base-url URL --protocol P --model M [--api-key-env VAR] [--max-tokens N] [--idle-timeout-ms N] [--json]`
// The command-line face of the speed meter: the same code path as the speed panel's probe.
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock';
import { isProtocolId, PROTOCOL_IDS } from '../core/endpoint';
import { probeEndpoint, type ProbeResult } from '../core/stream/probe';
import { countTokens } from '../core/stream/tokenCount';
import { createTransport } from '../core/stream/transport';

const USAGE = `Usage: npm run --silent probe -- --base-url URL --protocol ${PROTOCOL_IDS.join('|')} --model M
         [--api-key-env VAR] [--max-tokens N] [--idle-timeout-ms N] [--json]
The base URL is the provider's as documented: OpenAI-compatible ones end in /v1 (e.g. http://127.0.0.1:8080/v1);
llama.cpp, Ollama and Anthropic are the server root (e.g. http://127.0.0.1:11434).`;

function usageError(message: string): never {
  process.stderr.write(`probe: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) usageError(`${flag} must be a positive integer, got "${value}".`);
  return parsed;
}

function formatNumber(value: number | null, digits: number, unit: string): string {
  return value === null ? 'n/a' : `${value.toLocaleString('en-US', { maximumFractionDigits: digits })} ${unit}`;
}

function humanReport(result: ProbeResult, baseUrl: string): string {
  const lines = [
    `${result.ok ? 'OK' : 'FAILED'}  ${result.protocol}  ${result.model}  @ ${baseUrl}`,
    `  TTFT            ${formatNumber(result.ttftMs, 1, 'ms')}`,
    `  decode          ${formatNumber(result.decodeTokensPerSec, 0, 'tok/s')} (TTFT excluded)`,
    `  output tokens   ${result.outputTokens} (${result.tokensSource === 'server' ? 'counted by the server' : 'estimated'})`,
    `  prompt tokens   ${result.promptTokens ?? 'n/a'}`,
    `  total           ${formatNumber(result.totalMs, 1, 'ms')}`,
  ];
  if (result.error)
    lines.push(
      `  error           ${result.error.reason}${result.error.status ? ` (HTTP ${result.error.status})` : ''}: ${result.error.message}`,
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'base-url': { type: 'string' },
        protocol: { type: 'string' },
        model: { type: 'string' },
        'api-key-env': { type: 'string' },
        'max-tokens': { type: 'string' },
        'idle-timeout-ms': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const baseUrl = values['base-url'];
  const protocol = values.protocol;
  const model = values.model;
  if (!baseUrl) usageError('--base-url is required.');
  try {
    const parsed = new URL(baseUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    usageError(`--base-url must be an http:// or https:// URL, got "${baseUrl}".`);
  }
  if (!isProtocolId(protocol))
    usageError(`--protocol must be one of ${PROTOCOL_IDS.join(', ')}; got "${protocol ?? ''}".`);
  if (!model) usageError('--model is required (llama.cpp ignores it; any name will do there).');
  const keyVariable = values['api-key-env'];
  const apiKey = keyVariable ? process.env[keyVariable] : undefined;
  if (keyVariable && !apiKey)
    usageError(`the environment variable ${keyVariable} (from --api-key-env) is empty or not set.`);

  const transport = createTransport();
  try {
    const result = await probeEndpoint(
      { baseUrl, protocol, model, apiKey },
      {
        transport,
        clock: systemClock,
        countTokens,
        maxTokens: positiveInteger(values['max-tokens'], '--max-tokens'),
        idleTimeoutMs: positiveInteger(values['idle-timeout-ms'], '--idle-timeout-ms'),
      },
    );
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${humanReport(result, baseUrl)}\n`);
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await transport.close();
  }
}

void main();
