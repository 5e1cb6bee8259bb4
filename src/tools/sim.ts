// The simulator's command line: `npm run sim -- [--port N] [--ttft-ms N] [--tokens-per-sec N] [--tokens-per-event N]
// [--role-chunk|--no-role-chunk] [--no-usage] [--context-window N] [--fault F] [--api-key K] [--model M] [--max-tokens N]
// [--completion-tokens N] [--slots N] [--ignore-stops] [--quiet]` (see USAGE for all). The first line of stdout is the base URL; then one line per request.
import { parseFault, type SimulatorOptions } from '../sim/simOptions';
import { startSimulator } from '../sim/simulator';

const USAGE = `usage: npm run sim -- [--port N] [--ttft-ms N] [--tokens-per-sec N] [--tokens-per-event N]
  [--role-chunk | --no-role-chunk] [--no-usage] [--context-window N] [--fault 429|500|503|disconnect:N|stall:N|malformed:N|split-utf8]
  [--api-key K] [--model NAME] [--max-tokens N] [--completion-tokens N] [--chat-style fenced|plain]
  [--server-timings none|groq|cerebras|llamacpp] [--slots N] [--ignore-stops] [--quiet]`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { options: SimulatorOptions; quiet: boolean } {
  const options: SimulatorOptions = {};
  let quiet = false;
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
  return { options, quiet };
}

async function main(): Promise<void> {
  let parsed: { options: SimulatorOptions; quiet: boolean };
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sim: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { options, quiet } = parsed;
  const simulator = await startSimulator({
    ...options,
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
