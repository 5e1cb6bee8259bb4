// The simulator's command line: `npm run sim -- [--port N] [--ttft-ms N] [--tokens-per-sec N] [--tokens-per-event N]
// [--role-chunk|--no-role-chunk] [--no-usage] [--context-window N] [--fault F] [--api-key K] [--model M] [--max-tokens N]
// [--completion-tokens N] [--slots N] [--ignore-stops] [--continuation MODE --continuation-dir DIR] [--quiet]` (see
// USAGE for all). The first line of stdout is the base URL; then one line per request.
import { formatContinuation, parseContinuation } from '../sim/continuation';
import { readContinuationDir } from '../sim/continuationFiles';
import { parseFault, type SimulatorOptions } from '../sim/simOptions';
import { startSimulator } from '../sim/simulator';

const USAGE = `usage: npm run sim -- [--port N] [--ttft-ms N] [--tokens-per-sec N] [--tokens-per-event N]
  [--role-chunk | --no-role-chunk] [--no-usage] [--context-window N] [--fault 429|500|503|disconnect:N|stall:N|malformed:N|split-utf8]
  [--api-key K] [--model NAME] [--max-tokens N] [--completion-tokens N] [--chat-style fenced|plain]
  [--server-timings none|groq|cerebras|llamacpp] [--slots N] [--ignore-stops]
  [--continuation true|wrong|mixed:P] [--continuation-dir DIR] [--quiet]`;

class UsageError extends Error {}

interface CliArgs {
  readonly options: SimulatorOptions;
  readonly quiet: boolean;
  /** Where continuations come from (`--continuation-dir`), read once at start. */
  readonly continuationDir: string | null;
}

function parseArgs(argv: readonly string[]): CliArgs {
  const options: SimulatorOptions = {};
  let quiet = false;
  let continuationDir: string | null = null;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index] ?? '';
    const takeValue = (): string => {
      const value = argv[index + 1];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      index += 1;
      return value;
    };
    const takeNumber = (min: number): number => {
      const raw = takeValue();
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min) throw new UsageError(`${flag} needs a number >= ${min}, got ${raw}`);
      return value;
    };
    switch (flag) {
      case '--port':
        options.port = takeNumber(0);
        break;
      case '--ttft-ms':
        options.ttftMs = takeNumber(0);
        break;
      case '--tokens-per-sec':
        options.tokensPerSec = takeNumber(0.001);
        break;
      case '--tokens-per-event':
        options.tokensPerEvent = takeNumber(1);
        break;
      case '--role-chunk':
        options.roleChunk = true;
        break;
      case '--no-role-chunk':
        options.roleChunk = false;
        break;
      case '--no-usage':
        options.sendUsage = false;
        break;
      case '--context-window':
        options.contextWindow = takeNumber(1);
        break;
      case '--fault': {
        const spec = takeValue();
        const fault = parseFault(spec);
        if (fault === null) throw new UsageError(`unknown fault ${spec}`);
        options.fault = fault;
        break;
      }
      case '--api-key':
        options.apiKey = takeValue();
        break;
      case '--model':
        options.model = takeValue();
        break;
      case '--max-tokens':
        options.maxTokensDefault = takeNumber(0);
        break;
      case '--completion-tokens':
        options.completionTokens = takeNumber(0);
        break;
      case '--chat-style': {
        const style = takeValue();
        if (style !== 'fenced' && style !== 'plain') throw new UsageError('--chat-style is fenced or plain');
        options.chatStyle = style;
        break;
      }
      case '--server-timings': {
        const style = takeValue();
        if (style !== 'none' && style !== 'groq' && style !== 'cerebras' && style !== 'llamacpp') {
          throw new UsageError('--server-timings is none, groq, cerebras or llamacpp');
        }
        options.serverTimings = style;
        break;
      }
      case '--slots': {
        const slots = takeNumber(1);
        if (!Number.isSafeInteger(slots)) throw new UsageError('--slots needs a whole number >= 1');
        options.slots = slots;
        break;
      }
      case '--continuation': {
        const spec = takeValue();
        // Checked here so that a typo is a usage error (exit 2), not a crash at start.
        const mode = parseContinuation(spec);
        if (mode === null)
          throw new UsageError(`--continuation is true, wrong or mixed:P with 0 <= P <= 1, got ${spec}`);
        options.continuation = formatContinuation(mode);
        break;
      }
      case '--continuation-dir':
        continuationDir = takeValue();
        break;
      case '--ignore-stops':
        options.ignoreStops = true;
        break;
      case '--quiet':
        quiet = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (options.continuation !== undefined && continuationDir === null)
    throw new UsageError('--continuation needs --continuation-dir DIR');
  return { options, quiet, continuationDir };
}

async function main(): Promise<void> {
  let parsed: CliArgs;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sim: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { options, quiet, continuationDir } = parsed;
  let continuationFiles: readonly string[] = [];
  if (continuationDir !== null) {
    try {
      const read = readContinuationDir(continuationDir);
      continuationFiles = read.texts;
      if (!quiet)
        process.stderr.write(
          `sim: ${read.texts.length} files for continuations from ${continuationDir} (${read.skipped} left out)\n`,
        );
    } catch (error) {
      process.stderr.write(
        `sim: cannot read --continuation-dir ${continuationDir}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(2);
    }
  }
  const simulator = await startSimulator({
    ...options,
    continuationFiles: () => continuationFiles,
    log: quiet ? undefined : (line) => process.stdout.write(`${line}\n`),
  });
  // The base URL first, alone on its line: scripts and tests read it from there.
  process.stdout.write(`${simulator.baseUrl}\n`);
  if (!quiet) {
    process.stdout.write(
      `simulating OpenAI (${simulator.baseUrl}/v1), llama.cpp, Ollama and Anthropic (${simulator.baseUrl}); Ctrl+C stops\n`,
    );
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void simulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
