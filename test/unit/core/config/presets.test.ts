import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseBaseUrl } from '../../../../src/core/config/backendConfig';
import { PRESETS, presetIds } from '../../../../src/core/config/presets';
import { PROJECT_ROOT } from '../../projectRoot';

const REQUIRED_PROVIDERS = [
  'cerebras',
  'groq',
  'sambanova',
  'openrouter',
  'together',
  'fireworks',
  'deepseek',
  'codestral',
  'minimax',
  'xiaomi-mimo',
  'openai',
  'anthropic',
  'ollama',
  'llamacpp',
  'vllm',
  'sglang',
  'lmstudio',
];

describe('presets', () => {
  it('cover every provider the issue names, once each', () => {
    const ids = presetIds();
    for (const id of REQUIRED_PROVIDERS) expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(PRESETS.map((preset) => [preset.id, preset] as const))('%s is consistent', (_id, preset) => {
    expect(normaliseBaseUrl(preset.baseUrl, preset.protocol).ok).toBe(true);
    // OpenAI-compatible base URLs end in a version segment; llama.cpp, Ollama and Anthropic are the server root.
    if (preset.protocol === 'openai-chat' || preset.protocol === 'openai-completions') {
      expect(preset.baseUrl).toMatch(/\/(v1|beta)$/);
    } else {
      expect(new URL(preset.baseUrl).pathname).toBe('/');
    }
    if (preset.local) {
      expect(preset.baseUrl.startsWith('http://127.0.0.1:')).toBe(true);
      expect(preset.apiKey).not.toBe('required');
    } else {
      expect(preset.baseUrl.startsWith('https://')).toBe(true);
      expect(preset.apiKey).toBe('required');
      expect(preset.keyUrl).toMatch(/^https:\/\//);
    }
    if (preset.contextWindow !== null) expect(Number.isInteger(preset.contextWindow)).toBe(true);
  });

  it('take predicted outputs only where the provider documents OpenAI-style prediction on chat completions', () => {
    const taking = PRESETS.filter((preset) => preset.predictedOutputs).map((preset) => preset.id);
    expect(taking).toEqual(['cerebras', 'fireworks', 'mistral', 'openai']);
    for (const preset of PRESETS) if (preset.predictedOutputs) expect(preset.protocol).toBe('openai-chat');
  });

  it('price self-hosted servers as free, and give a published price only with the date it was read', () => {
    for (const preset of PRESETS) {
      if (preset.local) {
        expect(preset.price).toEqual({ kind: 'free', why: 'self-hosted' });
        continue;
      }
      // A hosted provider is never free: its price is published (and dated) or unknown.
      expect(preset.price.kind).not.toBe('free');
      if (preset.price.kind !== 'priced') continue;
      expect(preset.price.source).toBe('preset');
      expect(preset.price.readOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const { inputPerMillion, cachedInputPerMillion, outputPerMillion } = preset.price.prices;
      for (const value of [inputPerMillion, cachedInputPerMillion ?? inputPerMillion, outputPerMillion]) {
        expect(value).toBeGreaterThan(0);
        expect(value).toBeLessThan(1000);
      }
      expect(cachedInputPerMillion ?? inputPerMillion).toBeLessThanOrEqual(inputPerMillion);
    }
  });

  it('are the enum offered in package.json', () => {
    const manifest = readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8');
    const match = /"preset":\s*\{[^}]*?"enum":\s*(\[[^\]]*\])/.exec(manifest);
    expect(match).not.toBeNull();
    const enumValues: unknown = JSON.parse(match?.[1] ?? '[]');
    expect(enumValues).toEqual([...presetIds()]);
  });
});
