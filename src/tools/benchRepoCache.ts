// Benchmark of prompt caching for repository questions: two different questions about the same generated repository of
// 20,000 files, each prepared by the repository task path (rank, pack with the stable prefix first, plan) and sent
// through the routed generation service to the simulator with its prompt cache on, once over OpenAI chat (automatic
// prefix caching) and once over Anthropic messages (an explicit cache_control breakpoint). Reports the share of the
// second prompt the server served from cache and its TTFT against the first's. Target: >= 90% of the second prompt.
// Usage: npm run --silent bench:repo-cache -- [--json] [--files 20000] [--prefill-tokens-per-sec 50000] [--ttft-ms 100]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock';
import type { ProtocolId, ResolvedEndpoint } from '../core/endpoint';
import { RoutedGenerationService } from '../core/generation/routedGenerationService';
import { nodeRepoFileSystem } from '../core/repo/nodeRepoFileSystem';
import { RepoIndex } from '../core/repo/repoIndex';
import { filesByReason } from '../core/repo/contextPacker';
import { prepareRepoTask } from '../core/repo/repoTask';
import { systemScheduler } from '../core/scheduler';
import { StatsHub } from '../core/speed/statsHub';
import { countTokens } from '../core/stream/tokenCount';
import { createTransport } from '../core/stream/transport';
import { startSimulator } from '../sim/simulator';
import { generatedRepository } from './benchRepoTree';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    files: { type: 'string', default: '20000' },
    'prefill-tokens-per-sec': { type: 'string', default: '50000' },
    'ttft-ms': { type: 'string', default: '100' },
  },
});

/** The long-context window the simulated endpoint serves: room for the default 200,000-token context and an answer. */
const CONTEXT_WINDOW = 262_144;

const QUESTIONS = [
  'how are invoice payments validated and saved for a user account',
  'where is the session token cache refreshed when a client request fails',
] as const;

/** One question's figures, from the request record the routed service kept. */
interface QuestionFigures {
  readonly promptTokens: number | null;
  readonly cachedPromptTokens: number | null;
  readonly cachedShare: number | null;
  readonly ttftMs: number | null;
  readonly prepareMs: number;
  /** Files packed for the question itself (its words, in the core or after it), against those only filling the budget. */
  readonly chosenFiles: number;
  readonly fillerFiles: number;
}

/** Figures of one protocol: both questions, and how much of the text the two prompts share. */
interface ProtocolFigures {
  readonly protocol: ProtocolId;
  readonly first: QuestionFigures;
  readonly second: QuestionFigures;
  /** Share of the second prompt's characters that the first prompt starts with too. */
  readonly sharedPrefixShare: number;
  /** Share of the second prompt's characters the request marks as its stable prefix. */
  readonly markedPrefixShare: number;
  readonly ttftSecondOverFirst: number | null;
}

function round(value: number | null, digits: number): number | null {
  if (value === null) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function commonPrefixChars(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a.charCodeAt(index) === b.charCodeAt(index)) index += 1;
  return index;
}

async function main(): Promise<void> {
  const fileCount = Number(values.files);
  const root = generatedRepository(fileCount);
  countTokens('warm up the tokenizer');
  const fs = nodeRepoFileSystem(root, { readerScript: join(__dirname, 'repoFileReader.js') });
  const index = new RepoIndex(fs);
  const indexStart = performance.now();
  await index.build();
  const indexMs = performance.now() - indexStart;

  const transport = createTransport();
  const results: ProtocolFigures[] = [];
  try {
    for (const protocol of ['openai-chat', 'anthropic'] satisfies ProtocolId[]) {
      // A simulator per protocol: its cache is server-wide, and the first question must start cold on each.
      const sim = await startSimulator({
        promptCache: true,
        ttftMs: Number(values['ttft-ms']),
        prefillTokensPerSec: Number(values['prefill-tokens-per-sec']),
        tokensPerSec: 2_000,
        completionTokens: 64,
        contextWindow: CONTEXT_WINDOW,
      });
      try {
        const endpoint: ResolvedEndpoint = {
          id: 'longContext#0',
          role: 'longContext',
          label: `Simulated long context (${protocol})`,
          preset: null,
          target: { baseUrl: protocol === 'anthropic' ? sim.baseUrl : `${sim.baseUrl}/v1`, protocol, model: 'sim' },
          contextWindow: CONTEXT_WINDOW,
          fim: 'none',
          simulated: true,
          predictedOutputs: false,
          price: { kind: 'free', why: 'simulated' },
        };
        const sink = new StatsHub({ clock: systemClock, scheduler: systemScheduler, endpoints: () => [endpoint] });
        // The service the extension uses: the router (long context first for repository tasks), meter and records.
        const service = new RoutedGenerationService({
          knownSecrets: () => [],
          transport,
          clock: systemClock,
          endpoints: (role) => (role === 'longContext' ? [endpoint] : []),
          sink,
          countTokens,
        });
        const figures: QuestionFigures[] = [];
        const prompts: string[] = [];
        let markedChars = 0;
        for (const question of QUESTIONS) {
          const prepareStart = performance.now();
          const prepared = await prepareRepoTask(
            { index, fs, countTokens, plan: (query) => service.plan(query) },
            { kind: 'ask', request: question, signal: new AbortController().signal },
          );
          const prepareMs = performance.now() - prepareStart;
          prompts.push(prepared.messages.map((message) => message.content).join(''));
          markedChars = prepared.spec.build(endpoint).request.cacheablePrefixChars ?? 0;
          const run = service.start(prepared.spec);
          for await (const event of run.events) void event;
          const record = await run.finished;
          if (record === null || record.outcome !== 'ok') throw new Error(`the ${protocol} request did not finish`);
          const promptTokens = record.stats.promptTokens;
          const cached = record.stats.cachedPromptTokens;
          figures.push({
            promptTokens,
            cachedPromptTokens: cached,
            cachedShare: promptTokens !== null && cached !== null && promptTokens > 0 ? cached / promptTokens : null,
            ttftMs: record.stats.ttftMs,
            prepareMs,
            chosenFiles: filesByReason(prepared.packed.sections).chosen.length,
            fillerFiles: filesByReason(prepared.packed.sections).filler.length,
          });
        }
        const [first, second] = figures;
        const [firstPrompt, secondPrompt] = prompts;
        if (first === undefined || second === undefined || firstPrompt === undefined || secondPrompt === undefined) {
          throw new Error('a question was not measured');
        }
        results.push({
          protocol,
          first: {
            ...first,
            cachedShare: round(first.cachedShare, 4),
            ttftMs: round(first.ttftMs, 1),
            prepareMs: Math.round(first.prepareMs),
          },
          second: {
            ...second,
            cachedShare: round(second.cachedShare, 4),
            ttftMs: round(second.ttftMs, 1),
            prepareMs: Math.round(second.prepareMs),
          },
          sharedPrefixShare: round(commonPrefixChars(firstPrompt, secondPrompt) / secondPrompt.length, 4) ?? 0,
          markedPrefixShare: round(markedChars / secondPrompt.length, 4) ?? 0,
          ttftSecondOverFirst:
            first.ttftMs !== null && second.ttftMs !== null && first.ttftMs > 0
              ? round(second.ttftMs / first.ttftMs, 3)
              : null,
        });
      } finally {
        await sim.close();
      }
    }
  } finally {
    await transport.close();
  }

  const target = 0.9;
  const secondShares = results.map((result) => result.second.cachedShare ?? 0);
  const summary = {
    files: index.fileCount(),
    indexMs: Math.round(indexMs),
    simulator: { ttftMs: Number(values['ttft-ms']), prefillTokensPerSec: Number(values['prefill-tokens-per-sec']) },
    secondPromptCachedShare: Math.min(...secondShares),
    target: { secondPromptCachedShare: target },
    meets: { secondPromptCachedShare: secondShares.every((share) => share >= target) },
    protocols: results,
    node: process.version,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  process.stdout.write(`generated repository: ${summary.files} files indexed in ${summary.indexMs} ms\n`);
  for (const result of results) {
    const pct = (share: number | null): string => (share === null ? 'unknown' : `${(share * 100).toFixed(1)}%`);
    process.stdout.write(
      `${result.protocol}: first prompt ${result.first.promptTokens} tokens, TTFT ${result.first.ttftMs} ms; ` +
        `second ${result.second.promptTokens} tokens, ${pct(result.second.cachedShare)} cached, TTFT ${result.second.ttftMs} ms ` +
        `(${result.ttftSecondOverFirst}x); text shared ${pct(result.sharedPrefixShare)}, marked stable ${pct(result.markedPrefixShare)}\n`,
    );
  }
  process.stdout.write(
    `target: >= ${target * 100}% of the second prompt cached: ${summary.meets.secondPromptCachedShare ? 'met' : 'NOT met'}\n`,
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
