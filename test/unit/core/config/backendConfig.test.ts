import { describe, expect, it } from 'vitest';
import {
  apiKeySecretName,
  entryForSettings,
  normaliseBaseUrl,
  parseBackendList,
  resolveEndpoints,
} from '../../../../src/core/config/backendConfig';
import { findPreset, PRESETS } from '../../../../src/core/config/presets';

function onlyProblem(raw: unknown): { kind: string; message: string; index: number } {
  const parsed = parseBackendList('burst', raw);
  expect(parsed.problems).toHaveLength(1);
  const [first] = parsed.problems;
  if (first === undefined) throw new Error('no problem');
  return first;
}

describe('parseBackendList', () => {
  it('expands a preset name into a full endpoint config', () => {
    const { configs, problems } = parseBackendList('burst', ['groq']);
    expect(problems).toEqual([]);
    expect(configs).toEqual([
      {
        id: 'burst#0',
        role: 'burst',
        label: 'Groq llama-3.1-8b-instant',
        preset: 'groq',
        baseUrl: 'https://api.groq.com/openai/v1',
        protocol: 'openai-chat',
        model: 'llama-3.1-8b-instant',
        contextWindow: null,
        fim: 'chat',
        predictedOutputs: false,
        price: { kind: 'unknown' },
        apiKey: 'required',
        secretName: 'latencyCopilot.apiKey:https://api.groq.com',
      },
    ]);
  });

  it('takes predicted outputs from the preset, and a hand-made entry may say it takes them', () => {
    const { configs, problems } = parseBackendList('burst', [
      'openai',
      'groq',
      { baseUrl: 'http://127.0.0.1:8000/v1', protocol: 'openai-chat', model: 'm', predictedOutputs: true },
      { preset: 'openai', predictedOutputs: false },
      { baseUrl: 'http://127.0.0.1:8000/v1', protocol: 'openai-chat', model: 'm' },
    ]);
    expect(problems).toEqual([]);
    expect(configs.map((config) => config.predictedOutputs)).toEqual([true, false, true, false, false]);
    const resolved = resolveEndpoints(configs, () => 'sk-x');
    expect(resolved.endpoints.map((endpoint) => endpoint.predictedOutputs)).toEqual([true, false, true, false, false]);
  });

  it('lets entry fields override the preset, and trims trailing slashes', () => {
    const { configs } = parseBackendList('longContext', [
      {
        preset: 'anthropic',
        model: 'claude-opus-4-1',
        contextWindow: 150000,
        label: 'Opus',
        baseUrl: 'https://api.anthropic.com/',
      },
    ]);
    expect(configs[0]).toMatchObject({
      id: 'longContext#0',
      label: 'Opus',
      model: 'claude-opus-4-1',
      contextWindow: 150000,
      baseUrl: 'https://api.anthropic.com',
      protocol: 'anthropic',
    });
  });

  it('accepts a hand-made endpoint and labels it by host and model', () => {
    const { configs, problems } = parseBackendList('burst', [
      { baseUrl: 'http://127.0.0.1:8080', protocol: 'llamacpp-infill', model: 'qwen', fim: 'llamacpp-infill' },
    ]);
    expect(problems).toEqual([]);
    expect(configs[0]).toMatchObject({
      label: '127.0.0.1:8080 qwen',
      preset: null,
      apiKey: 'optional',
      fim: 'llamacpp-infill',
    });
  });

  it('reports each bad entry once, by position, and still uses the good ones', () => {
    const { configs, problems } = parseBackendList('burst', [
      { baseUrl: 'htp//nope', protocol: 'openai-chat', model: 'm' },
      'cerebras',
      { baseUrl: 'http://127.0.0.1:1/v1', protocol: 'grpc', model: 'm' },
      { preset: 'vllm' },
    ]);
    expect(configs.map((config) => config.id)).toEqual(['burst#1']);
    expect(problems.map((p) => [p.index, p.kind])).toEqual([
      [0, 'malformed-url'],
      [2, 'unknown-protocol'],
      [3, 'missing-model'],
    ]);
    for (const p of problems) {
      expect(p.message).toContain(`latencyCopilot.backends.burst[${p.index}]`);
      expect(p.message).toContain('skipped');
    }
  });

  it.each([
    [{ baseUrl: 'ftp://host/v1', protocol: 'openai-chat', model: 'm' }, 'malformed-url', 'http:// or https://'],
    [{ baseUrl: 'https://host/v1?x=1', protocol: 'openai-chat', model: 'm' }, 'malformed-url', 'query'],
    [
      { baseUrl: 'https://host/v1/chat/completions', protocol: 'openai-chat', model: 'm' },
      'wrong-base-path',
      '"https://host/v1"',
    ],
    [
      { baseUrl: 'http://127.0.0.1:11434/v1', protocol: 'ollama-generate', model: 'm' },
      'wrong-base-path',
      'without /v1',
    ],
    [{ protocol: 'openai-chat', model: 'm' }, 'missing-base-url', 'baseUrl'],
    [{ baseUrl: 'https://host/v1', model: 'm' }, 'missing-protocol', 'openai-chat'],
    [{ baseUrl: 'https://host/v1', protocol: 'openai-chat' }, 'missing-model', '"model"'],
    [{ baseUrl: 'https://host/v1', protocol: 'openai-chat', model: 7 }, 'missing-model', 'non-empty string'],
    [{ preset: 'nonsense' }, 'unknown-preset', 'cerebras'],
    [{ preset: 'groq', contextWindow: 12.5 }, 'bad-context-window', 'whole number'],
    [{ preset: 'groq', fim: 'magic' }, 'unknown-fim', 'llamacpp-infill'],
    [{ preset: 'groq', predictedOutputs: 'yes' }, 'bad-predicted-outputs', '"predictedOutputs" must be true'],
    [42, 'not-an-entry', 'preset name'],
  ])('%j -> %s', (entry, kind, hint) => {
    const found = onlyProblem([entry]);
    expect(found.kind).toBe(kind);
    expect(found.message).toContain(hint);
  });

  describe('price', () => {
    const fireworks = findPreset('fireworks')?.price;

    it.each([
      ['a hosted preset with its default model: the published prices', 'fireworks', fireworks],
      [
        'a hosted preset with another model: unknown (the price was read for the default)',
        { preset: 'fireworks', model: 'other' },
        { kind: 'unknown' },
      ],
      ['a hosted preset with no published price: unknown, never zero', 'groq', { kind: 'unknown' }],
      [
        'a self-hosted preset, whatever it serves: free',
        { preset: 'vllm', model: 'qwen' },
        { kind: 'free', why: 'self-hosted' },
      ],
      [
        'a hand-made entry: unknown',
        { baseUrl: 'https://host/v1', protocol: 'openai-chat', model: 'm' },
        { kind: 'unknown' },
      ],
      [
        "the entry's own price wins over the preset",
        { preset: 'fireworks', price: { input: 0.6, cachedInput: 0.15, output: 2.4 } },
        {
          kind: 'priced',
          prices: { inputPerMillion: 0.6, cachedInputPerMillion: 0.15, outputPerMillion: 2.4 },
          source: 'setting',
          readOn: null,
        },
      ],
      [
        'no cachedInput: cached tokens cost input; 0 is a price (a free tier)',
        { baseUrl: 'https://host/v1', protocol: 'openai-chat', model: 'm', price: { input: 0, output: 0 } },
        {
          kind: 'priced',
          prices: { inputPerMillion: 0, cachedInputPerMillion: null, outputPerMillion: 0 },
          source: 'setting',
          readOn: null,
        },
      ],
    ])('%s', (_name, entry, price) => {
      const { configs, problems } = parseBackendList('burst', [entry]);
      expect(problems).toEqual([]);
      expect(configs[0]?.price).toEqual(price);
      expect(resolveEndpoints(configs, () => 'sk-x').endpoints[0]?.price).toEqual(price);
    });

    it.each([
      ['not an object', 0.6, 'must be an object'],
      ['negative', { input: -1, output: 2 }, '"price.input" must be a number'],
      ['not a number', { input: '0.6', output: 2 }, '"price.input" must be a number'],
      ['NaN-like', { input: 0.6, output: Number.NaN }, '"price.output" must be a number'],
      ['missing output', { input: 0.6 }, '"price.output" is missing'],
      ['per token', { input: 0.0000006, output: 0.0000024 }, 'wrong unit'],
      [
        'per thousand written as per million of thousands',
        { input: 0.6, cachedInput: 0.15, output: 2400 },
        'wrong unit',
      ],
      ['cachedInput negative', { input: 0.6, cachedInput: -0.1, output: 2 }, '"price.cachedInput" must be a number'],
    ])(
      'a bad price (%s): one message naming the entry; the entry still works, its price unknown',
      (_name, price, hint) => {
        const { configs, problems } = parseBackendList('burst', ['groq', { preset: 'fireworks', price }]);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatchObject({ kind: 'bad-price', index: 1, endpointId: 'burst#1', entryStillUsed: true });
        expect(problems[0]?.message).toContain('latencyCopilot.backends.burst[1]');
        expect(problems[0]?.message).toContain(hint);
        expect(configs.map((config) => config.id)).toEqual(['burst#0', 'burst#1']);
        expect(configs[1]?.price).toEqual({ kind: 'unknown' });
      },
    );
  });

  it('says which server a local preset serves its model list from', () => {
    expect(onlyProblem([{ preset: 'lmstudio' }]).message).toContain('http://127.0.0.1:1234/v1/models');
  });

  it('rejects a list that is not a list, and treats unset as empty', () => {
    expect(onlyProblem({ preset: 'groq' }).kind).toBe('not-a-list');
    expect(parseBackendList('burst', undefined)).toEqual({ configs: [], problems: [] });
  });

  it('ignores a key written into settings, keeps the entry, and never repeats the key', () => {
    const secret = 'sk-live-0123456789abcdefghij';
    const { configs, problems } = parseBackendList('burst', [{ preset: 'openai', apiKey: secret }]);
    expect(configs).toHaveLength(1);
    expect(problems[0]?.kind).toBe('key-in-settings');
    expect(problems[0]?.entryStillUsed).toBe(true);
    expect(JSON.stringify({ configs, problems })).not.toContain(secret);
  });

  it('rejects credentials in the URL without echoing them', () => {
    const found = onlyProblem([{ baseUrl: 'https://me:pa55word@host/v1', protocol: 'openai-chat', model: 'm' }]);
    expect(found.kind).toBe('key-in-settings');
    expect(found.message).not.toContain('pa55word');
  });

  it('does not echo a key pasted as the URL', () => {
    const found = onlyProblem([{ baseUrl: 'sk-abcdefghijklmnop1234567', protocol: 'openai-chat', model: 'm' }]);
    expect(found.kind).toBe('malformed-url');
    expect(found.message).not.toContain('abcdefghijklmnop1234567');
  });
});

describe('resolveEndpoints', () => {
  it('attaches the stored key and leaves out a preset whose required key is missing', () => {
    const { configs } = parseBackendList('burst', ['cerebras', 'groq', 'ollama']);
    const keys = new Map([[apiKeySecretName('https://api.groq.com/openai/v1'), 'gsk_test_key_123456']]);
    const { endpoints, problems } = resolveEndpoints(configs, (name) => keys.get(name));
    expect(endpoints.map((endpoint) => endpoint.id)).toEqual(['burst#1', 'burst#2']);
    expect(endpoints[0]?.target.apiKey).toBe('gsk_test_key_123456');
    expect(endpoints[1]?.target.apiKey).toBeUndefined();
    expect(endpoints[1]?.simulated).toBe(false);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      kind: 'missing-key',
      index: 0,
      endpointId: 'burst#0',
      secretName: 'latencyCopilot.apiKey:https://api.cerebras.ai',
    });
    expect(problems[0]?.message).toContain('Set API Key');
    expect(problems[0]?.message).toContain('https://api.cerebras.ai');
  });
});

describe('secret names', () => {
  it('are one per origin: same provider shares, other servers never see it', () => {
    expect(apiKeySecretName('https://api.cerebras.ai/v1')).toBe(apiKeySecretName('https://api.cerebras.ai/'));
    expect(apiKeySecretName('http://127.0.0.1:8080')).not.toBe(apiKeySecretName('http://127.0.0.1:8081'));
  });
});

describe('normaliseBaseUrl', () => {
  it('keeps a documented base URL as it is', () => {
    for (const preset of PRESETS)
      expect(normaliseBaseUrl(preset.baseUrl, preset.protocol)).toEqual({ ok: true, url: preset.baseUrl });
  });
});

describe('entryForSettings', () => {
  it('writes only what differs from the preset', () => {
    const groq = findPreset('groq');
    if (groq === undefined) throw new Error('groq preset missing');
    expect(entryForSettings({ preset: groq, model: 'llama-3.1-8b-instant' })).toEqual({ preset: 'groq' });
    expect(entryForSettings({ preset: groq, model: 'other', baseUrl: 'https://proxy.local/v1' })).toEqual({
      preset: 'groq',
      model: 'other',
      baseUrl: 'https://proxy.local/v1',
    });
    // What it writes parses back to the same endpoint.
    expect(parseBackendList('burst', [entryForSettings({ preset: groq, model: 'other' })]).configs[0]?.model).toBe(
      'other',
    );
  });
});
