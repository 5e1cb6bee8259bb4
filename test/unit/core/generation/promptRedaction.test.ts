import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/core/clock';
import type { GenerationRequest, ResolvedEndpoint } from '../../../../src/core/endpoint';
import {
  describePromptRedaction,
  redactRequest,
  type PromptRedactionCounts,
} from '../../../../src/core/generation/promptRedaction';
import { REDACTED } from '../../../../src/core/config/redact';
import type { RequestTask } from '../../../../src/core/requestStats';
import { RoutedGenerationService } from '../../../../src/core/generation/routedGenerationService';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { createTransport, type Transport } from '../../../../src/core/stream/transport';
import { startSimulator, type RunningSimulator } from '../../../../src/sim/simulator';
import { resolvedEndpoint } from '../../builders/endpoints';
import { RecordingSink } from '../../builders/statsSinks';

const KNOWN_KEY = 'f3c9a1e7-team-proxy-key-55d2';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx9Zx\n-----END RSA PRIVATE KEY-----';
const GROQ_SHAPED = 'gsk_0123456789abcdefABCDEFghij';
const OPENAI_SHAPED = 'sk-proj-AbCdEf0123456789xyz';

describe('redactRequest', () => {
  it('removes known keys, PEM blocks and key-shaped strings from every text that is sent, and counts them', () => {
    const request: GenerationRequest = {
      messages: [
        { role: 'system', content: 'You refactor code.' },
        {
          role: 'user',
          content: `const client = new Groq({ apiKey: '${GROQ_SHAPED}' });\nconst proxy = '${KNOWN_KEY}';`,
        },
      ],
      prompt: `// deploy key\nconst key = \`${PEM}\`;\n`,
      suffix: `\nexport const fallback = '${OPENAI_SHAPED}'; // and again ${KNOWN_KEY}`,
      extraContext: [{ filename: 'src/config.ts', text: `export const token = '${GROQ_SHAPED}';` }],
      maxTokens: 16,
    };
    const { request: sent, counts } = redactRequest(request, [KNOWN_KEY]);
    const wire = JSON.stringify(sent);
    for (const secret of [KNOWN_KEY, 'MIIEowIBAAKCAQEAx9Zx', GROQ_SHAPED, OPENAI_SHAPED])
      expect(wire).not.toContain(secret);
    expect(counts).toEqual({ knownKeys: 2, privateKeys: 1, keyShapes: 3 });
    // Everything around the keys is kept: the model still sees the code's shape.
    expect(sent.messages?.[1]?.content).toBe(
      `const client = new Groq({ apiKey: '${REDACTED}' });\nconst proxy = '${REDACTED}';`,
    );
    expect(sent.messages?.[0]).toBe(request.messages?.[0]);
    expect(sent.prompt).toBe(`// deploy key\nconst key = \`${REDACTED}\`;\n`);
    expect(sent.maxTokens).toBe(16);
  });

  it('leaves ordinary code about secrets alone (the log redactor field patterns would blank it) and returns the same request', () => {
    const code = [
      'const secret = deriveSecret(password, salt);',
      'password: string;',
      "headers['Authorization'] = `Bearer ${token}`;",
      'const apiKey = process.env.OPENAI_API_KEY;',
      'task-runner --risk-assessment skip-validation',
    ].join('\n');
    const request: GenerationRequest = { prompt: code, suffix: '}\n', maxTokens: 48, stop: ['\n'] };
    const result = redactRequest(request, [KNOWN_KEY]);
    expect(result.request).toBe(request);
    expect(result.counts).toEqual({ knownKeys: 0, privateKeys: 0, keyShapes: 0 });
  });

  it('removes a key that contains another known key whole', () => {
    const inner = 'abcdefgh12345678';
    const outer = `${inner}-with-suffix-9999`;
    const { request } = redactRequest({ prompt: `a ${outer} b ${inner} c`, maxTokens: 1 }, [outer, inner]);
    expect(request.prompt).toBe(`a ${REDACTED} b ${REDACTED} c`);
  });

  it('describes what was removed by count, never by value', () => {
    const line = describePromptRedaction({ knownKeys: 1, privateKeys: 0, keyShapes: 2 }, 'inline', 'Cerebras llama');
    expect(line).toBe(
      'Prompt for inline to Cerebras llama: removed 1 of your API keys, 2 key-shaped strings before sending (replaced by [redacted]).',
    );
  });
});

describe('every outgoing prompt passes the redactor', () => {
  let sim: RunningSimulator;
  let transport: Transport;
  beforeAll(async () => {
    sim = await startSimulator({ ttftMs: 1, tokensPerSec: 50_000, completionTokens: 4, contextWindow: 32_000 });
    transport = createTransport();
  });
  afterAll(async () => {
    await transport.close();
    await sim.close();
  });

  it('the request body the server receives holds no key, and the log hook gets the counts', async () => {
    const endpoint: ResolvedEndpoint = resolvedEndpoint({
      label: 'Simulated burst',
      target: { baseUrl: `${sim.baseUrl}/v1`, model: 'sim' },
      contextWindow: 32_000,
      fim: 'chat',
      simulated: true,
    });
    const sink = new RecordingSink();
    const told: { task: RequestTask; endpointId: string; counts: PromptRedactionCounts }[] = [];
    const service = new RoutedGenerationService({
      transport,
      clock: systemClock,
      endpoints: (role) => (role === 'burst' ? [endpoint] : []),
      sink,
      countTokens,
      knownSecrets: () => [KNOWN_KEY],
      onPromptRedacted: (target, task, counts) => told.push({ task, endpointId: target.id, counts }),
    });
    const run = service.start({
      task: 'refactor',
      signal: new AbortController().signal,
      promptTokens: 60,
      maxOutputTokens: 8,
      build: (target) => ({
        target: target.target,
        request: {
          messages: [{ role: 'user', content: `rename ${KNOWN_KEY} and ${OPENAI_SHAPED}\n${PEM}` }],
          maxTokens: 8,
        },
      }),
    });
    for await (const _event of run.events) {
      // Drain the stream.
    }
    const bodies = sim.requests
      .filter((entry) => entry.path.includes('chat/completions'))
      .map((entry) => JSON.stringify(entry.body));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('rename');
    for (const secret of [KNOWN_KEY, OPENAI_SHAPED, 'MIIEowIBAAKCAQEAx9Zx']) expect(bodies[0]).not.toContain(secret);
    expect(told).toEqual([
      { task: 'refactor', endpointId: 'burst#0', counts: { knownKeys: 1, privateKeys: 1, keyShapes: 1 } },
    ]);
  });
});
