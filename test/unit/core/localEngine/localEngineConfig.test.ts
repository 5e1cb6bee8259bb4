import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  downloadDestination,
  isLocalEngineConfigured,
  localEngineEndpoint,
  readLocalEngineConfig,
} from '../../../../src/core/localEngine/localEngineConfig';
import { LOCAL_ENGINE_BASE_URL } from '../../../../src/core/localEngine/localEngineTransport';
import type { SettingKey, SettingsSource } from '../../../../src/core/config/settings';

function source(values: Partial<Record<SettingKey, unknown>>): SettingsSource {
  return { get: (key) => values[key] };
}

describe('local engine configuration', () => {
  it('is offered only when a model path or URL is set; values are trimmed and the idle time is in ms (at least 1 min)', () => {
    expect(isLocalEngineConfigured(readLocalEngineConfig(source({})))).toBe(false);
    expect(isLocalEngineConfigured(readLocalEngineConfig(source({ 'localEngine.modelPath': '   ' })))).toBe(false);
    const config = readLocalEngineConfig(
      source({
        'localEngine.modelUrl': ' https://example.com/m.gguf ',
        'localEngine.modelSha256': ' ABC ',
        'localEngine.idleStopMinutes': 0,
      }),
    );
    expect(isLocalEngineConfigured(config)).toBe(true);
    expect(config.modelUrl).toBe('https://example.com/m.gguf');
    expect(config.modelSha256).toBe('abc');
    expect(config.idleStopMs).toBe(60_000);
    expect(readLocalEngineConfig(source({})).idleStopMs).toBe(10 * 60_000);
  });

  it('downloads into <storage>/models under the URL file name, made safe', () => {
    expect(downloadDestination('/s', 'https://host/a/b/Qwen2.5-Coder-0.5B.Q4_0.gguf?x=1')).toBe(
      join('/s', 'models', 'Qwen2.5-Coder-0.5B.Q4_0.gguf'),
    );
    expect(downloadDestination('/s', 'https://host/a/..%2F..%2Fevil.gguf')).toBe(join('/s', 'models', 'evil.gguf'));
    expect(downloadDestination('/s', 'https://host/')).toBe(join('/s', 'models', 'model.gguf'));
    expect(downloadDestination('/s', 'not a url')).toBe(join('/s', 'models', 'model.gguf'));
  });

  it('is a burst endpoint on the placeholder origin, OpenAI chat with FIM by suffix, named after the model', () => {
    const endpoint = localEngineEndpoint(
      readLocalEngineConfig(source({ 'localEngine.modelPath': '/models/tiny-coder.gguf' })),
    );
    expect(endpoint).toMatchObject({
      id: 'burst#local',
      role: 'burst',
      label: 'Local engine tiny-coder',
      preset: 'local',
      target: { baseUrl: LOCAL_ENGINE_BASE_URL, protocol: 'openai-chat', model: 'tiny-coder' },
      contextWindow: 8192,
      fim: 'openai-suffix',
      simulated: false,
    });
  });
});
