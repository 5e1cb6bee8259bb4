import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/core/clock';
import type { BackendRole, ResolvedEndpoint } from '../../../../src/core/endpoint';
import { isBackendError } from '../../../../src/core/errors';
import type { StatsSink } from '../../../../src/core/generation/generationService';
import { RoutedGenerationService } from '../../../../src/core/generation/routedGenerationService';
import { roughTokenCount } from '../../../../src/core/stream/meter';
import { MemoryDocument } from '../../../../src/core/refactor/memoryDocument';
import { buildRefactorMessages } from '../../../../src/core/refactor/refactorPrompt';
import { startRefactor, type RefactorJob } from '../../../../src/core/refactor/refactorRun';
import { createTransport, type Transport } from '../../../../src/core/stream/transport';
import { startSimulator, type RunningSimulator } from '../../../../src/sim/simulator';

const BEFORE = 'class Box {\n  size = 1;\n\n';
const ORIGINAL = '  grow(n) {\n    var s = this.size;\n    s = s + n;\n    this.size = s;\n  }\n';
const AFTER = '}\n';
// The model answers dedented, inside a fence, with a sentence before and after.
const NEW_CODE = 'grow(n: number): void {\n  this.size += n;\n}';
const ANSWER = `Here is the simplified method:\n\n\`\`\`ts\n${NEW_CODE}\n\`\`\`\n\nIt adds n directly.`;
const EXPECTED_REGION = '  grow(n: number): void {\n    this.size += n;\n  }\n';

let burst: RunningSimulator;
let longContext: RunningSimulator;
let transport: Transport;

function endpoint(
  role: BackendRole,
  sim: RunningSimulator,
  contextWindow: number | null,
  predictedOutputs = true,
): ResolvedEndpoint {
  return {
    id: `${role}#0`,
    role,
    label: `Simulated ${role}`,
    preset: null,
    target: { baseUrl: `${sim.baseUrl}/v1`, protocol: 'openai-chat', model: `${role}-model` },
    contextWindow,
    fim: 'none',
    simulated: true,
    predictedOutputs,
    price: { kind: 'free', why: 'simulated' },
  };
}

const sink: StatsSink = {
  requestStarted: () => undefined,
  requestFinished: () => undefined,
  cacheServed: () => undefined,
};

/**
 * `contextWindow`: the window both endpoints are configured with (null: unknown, the server decides);
 * `predictedOutputs`: whether they take the expected output.
 */
function service(contextWindow: number | null, predictedOutputs = true): RoutedGenerationService {
  return new RoutedGenerationService({
    transport,
    clock: systemClock,
    endpoints: (role) => [endpoint(role, role === 'burst' ? burst : longContext, contextWindow, predictedOutputs)],
    sink,
    countTokens: roughTokenCount,
    knownSecrets: () => [],
  });
}

function job(document: MemoryDocument, extra: Partial<RefactorJob> = {}): RefactorJob {
  const text = document.getText();
  return {
    document,
    region: { offset: text.indexOf(ORIGINAL), length: ORIGINAL.length },
    messages: buildRefactorMessages({
      instruction: 'Simplify',
      languageId: 'typescript',
      filePath: 'box.ts',
      code: ORIGINAL,
      contextBefore: BEFORE,
      contextAfter: AFTER,
      insertBelow: false,
    }),
    promptTokens: 100,
    maxOutputTokens: 400,
    reindent: { baseIndent: '  ', firstLineIndentPresent: false, insertSpaces: true, tabSize: 2 },
    leadingText: '',
    trailingText: '\n',
    ...extra,
  };
}

function refactor(
  document: MemoryDocument,
  extra: Partial<RefactorJob> = {},
  signal = new AbortController().signal,
  contextWindow: number | null = null,
) {
  const run = startRefactor({ service: service(contextWindow), clock: systemClock }, job(document, extra), signal);
  document.onDidChange((changes) => run.session.documentChanged(changes));
  return run;
}

beforeAll(async () => {
  burst = await startSimulator({ tokensPerSec: 3000, ttftMs: 5, completionFor: () => ANSWER });
  longContext = await startSimulator({ tokensPerSec: 3000, ttftMs: 5, completionFor: () => ANSWER });
  transport = createTransport();
});

afterEach(() => {
  burst.setDefaults({ fault: null, contextWindow: 1_000_000, tokensPerSec: 3000 });
  burst.clearRequests();
  longContext.clearRequests();
});

afterAll(async () => {
  await transport.close();
  await burst.close();
  await longContext.close();
});

// Generous: these stream over loopback on a shared 2-core machine; the bound only catches a hang.
describe('startRefactor against the simulator', { timeout: 30_000 }, () => {
  it('streams the extracted, re-indented code into the region and ends in review', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    const outcome = await refactor(document).outcome;
    expect(outcome.kind).toBe('review');
    expect(document.getText()).toBe(BEFORE + EXPECTED_REGION + AFTER);
    expect(document.undo()).toBe(true);
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });

  it('sends the prediction only to an endpoint that takes predicted outputs', async () => {
    const prediction = '```typescript\n' + ORIGINAL + '\n```';
    for (const takes of [true, false]) {
      burst.clearRequests();
      const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
      const run = startRefactor(
        { service: service(null, takes), clock: systemClock },
        job(document, { prediction }),
        new AbortController().signal,
      );
      document.onDidChange((changes) => run.session.documentChanged(changes));
      expect((await run.outcome).kind).toBe('review');
      const body = burst.requests.find((request) => request.path === '/v1/chat/completions')?.body;
      const sent = typeof body === 'object' && body !== null && 'prediction' in body ? body.prediction : undefined;
      expect(sent).toEqual(takes ? { type: 'content', content: prediction } : undefined);
    }
  });

  it('restores the document byte for byte after a disconnect mid-stream', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    burst.setDefaults({ fault: { kind: 'disconnect', afterTokens: 20 }, tokensPerSec: 400 });
    const outcome = await refactor(document).outcome;
    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(isBackendError(outcome.error) && outcome.error.reason).toBe('network');
    expect(outcome.restore).toBe('restored'); // something had been written, and it was taken back
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });

  it('restores the document when the person cancels mid-stream', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    burst.setDefaults({ tokensPerSec: 100 });
    const cancel = new AbortController();
    const run = refactor(document, {}, cancel.signal);
    while (!run.session.hasWritten) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(document.getText()).not.toBe(BEFORE + ORIGINAL + AFTER);
    cancel.abort();
    const outcome = await run.outcome;
    expect(outcome).toEqual({ kind: 'cancelled', restore: 'restored' });
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });

  it('sends the fault header of the job (the end-to-end hook)', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    const outcome = await refactor(document, { extraHeaders: { 'x-sim-fault': '500' } }).outcome;
    expect(outcome.kind).toBe('failed');
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });

  it('retries a context-too-long answer from the burst model once on the long-context model', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    burst.setDefaults({ contextWindow: 64 });
    // Both endpoints configured with the same window: the service then has no larger window to re-route to by itself,
    // so the refusal reaches the refactor, and its own retry on the long-context model is what is tested.
    const outcome = await refactor(document, {}, new AbortController().signal, 8_192).outcome;
    expect(outcome.kind).toBe('review');
    if (outcome.kind !== 'review') return;
    expect(outcome.retriedOnLongContext).toBe(true);
    expect(outcome.route?.endpoint.role).toBe('longContext');
    expect(longContext.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(1);
    expect(document.getText()).toBe(BEFORE + EXPECTED_REGION + AFTER);
  });

  it('never leaves an answer cut off by the token budget in the document', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    const outcome = await refactor(document, { maxOutputTokens: 12 }).outcome;
    expect(outcome.kind).toBe('truncated');
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });

  it('keeps what the person typed inside the region and stops the stream', async () => {
    const document = new MemoryDocument(BEFORE + ORIGINAL + AFTER);
    burst.setDefaults({ tokensPerSec: 100 });
    const run = refactor(document);
    while (!run.session.hasWritten) await new Promise((resolve) => setTimeout(resolve, 5));
    document.type(run.session.region.offset + 1, 'TYPED');
    const outcome = await run.outcome;
    expect(outcome).toEqual({ kind: 'interrupted', reason: 'edited-inside' });
    expect(document.getText()).toContain('TYPED');
    // The request was abandoned: the simulator sees the client leave (shortly after, over the socket).
    for (let waited = 0; waited < 8000 && burst.requests.at(-1)?.clientDisconnected !== true; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(burst.requests.at(-1)?.clientDisconnected).toBe(true);
  });
});
