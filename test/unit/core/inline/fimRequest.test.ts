import { describe, expect, it } from 'vitest';
import type { FimSupport, ProtocolId, ResolvedEndpoint } from '../../../../src/core/endpoint';
import { FimPathProbe } from '../../../../src/core/inline/fimPathProbe';
import { fimCandidates } from '../../../../src/core/inline/fimPaths';
import { buildFimPlan, CHAT_HOLE_MARKER } from '../../../../src/core/inline/fimRequest';
import type { FimPrompt } from '../../../../src/core/inline/fimRequest';
import { detectFimFamily, fimTemplate } from '../../../../src/core/inline/fimTemplates';
import type { FimFamily } from '../../../../src/core/inline/fimTemplates';
import { resolvedEndpoint } from '../../builders/endpoints';

function endpoint(
  protocol: ProtocolId,
  model: string,
  fim: FimSupport = 'auto',
  baseUrl = 'http://127.0.0.1:8080',
): ResolvedEndpoint {
  return resolvedEndpoint({ label: `test ${model}`, target: { baseUrl, protocol, model }, fim });
}

const prompt: FimPrompt = {
  prefix: 'def add(a, b):\n    ',
  suffix: '\n\nprint(add(1, 2))\n',
  path: 'src/math.py',
  repoName: 'demo',
  languageId: 'python',
  snippets: [],
  indentColumns: 4,
};

describe('detectFimFamily', () => {
  const rows: { model: string; family: FimFamily | null }[] = [
    { model: 'Qwen/Qwen2.5-Coder-7B-Instruct', family: 'qwen-coder' },
    { model: 'qwen2.5-coder:1.5b-base', family: 'qwen-coder' },
    { model: 'qwen3-coder-30b-a3b', family: 'qwen-coder' },
    { model: 'deepseek-coder-6.7b-base', family: 'deepseek-coder' },
    { model: 'bigcode/starcoder2-15b', family: 'starcoder2' },
    { model: 'codellama:7b-code', family: 'codellama' },
    { model: 'codestral-latest', family: 'codestral' },
    { model: 'google/codegemma-2b', family: 'codegemma' },
    { model: 'llama3.1-8b', family: null },
    { model: 'gpt-4o-mini', family: null },
  ];
  it.each(rows)('$model -> $family', ({ model, family }) => {
    expect(detectFimFamily(model)).toBe(family);
  });
});

describe('FIM templates', () => {
  const input = { prefix: 'P', suffix: 'S', path: 'a.ts', repoName: 'r', snippets: [] };
  const rows: { family: FimFamily; expected: string }[] = [
    { family: 'qwen-coder', expected: '<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>' },
    { family: 'deepseek-coder', expected: '<｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>' },
    { family: 'starcoder2', expected: '<fim_prefix>P<fim_suffix>S<fim_middle>' },
    { family: 'codellama', expected: '<PRE> P <SUF>S <MID>' },
    { family: 'codestral', expected: '[SUFFIX]S[PREFIX]P' },
    { family: 'codegemma', expected: '<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>' },
  ];
  it.each(rows)('$family', ({ family, expected }) => {
    expect(fimTemplate(family).build(input)).toBe(expected);
    expect(fimTemplate(family).stop.length).toBeGreaterThan(0);
  });

  it('Qwen2.5-Coder uses its repo-level tokens when snippets are given', () => {
    const built = fimTemplate('qwen-coder').build({
      ...input,
      snippets: [{ path: 'b.ts', text: 'export const b = 1;' }],
    });
    expect(built).toBe(
      '<|repo_name|>r\n<|file_sep|>b.ts\nexport const b = 1;\n<|file_sep|>a.ts\n<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>',
    );
  });

  it('StarCoder2 uses <repo_name> and <file_sep> when snippets are given', () => {
    const built = fimTemplate('starcoder2').build({ ...input, snippets: [{ path: 'b.ts', text: 'B' }] });
    expect(built).toBe('<repo_name>r<file_sep>b.ts\nB\n<file_sep>a.ts\n<fim_prefix>P<fim_suffix>S<fim_middle>');
  });
});

describe('fimCandidates', () => {
  const rows: { protocol: ProtocolId; model: string; fim: FimSupport; expected: string[] }[] = [
    {
      protocol: 'llamacpp-infill',
      model: 'qwen2.5-coder',
      fim: 'auto',
      expected: ['llamacpp-infill', 'openai-suffix', 'template', 'chat'],
    },
    { protocol: 'openai-chat', model: 'llama3.1-8b', fim: 'auto', expected: ['openai-suffix', 'chat'] },
    {
      protocol: 'openai-completions',
      model: 'deepseek-coder',
      fim: 'auto',
      expected: ['openai-suffix', 'template', 'chat'],
    },
    {
      protocol: 'ollama-generate',
      model: 'codellama:7b',
      fim: 'auto',
      expected: ['ollama-suffix', 'template', 'chat'],
    },
    { protocol: 'anthropic', model: 'claude', fim: 'auto', expected: ['chat'] },
    { protocol: 'openai-chat', model: 'codestral-latest', fim: 'mistral-fim', expected: ['mistral-fim'] },
    { protocol: 'openai-chat', model: 'x', fim: 'none', expected: [] },
  ];
  it.each(rows)('$protocol $model fim=$fim', ({ protocol, model, fim, expected }) => {
    expect(fimCandidates(endpoint(protocol, model, fim))).toEqual(expected);
  });
});

describe('FimPathProbe: probe once, remember', () => {
  it('moves to the next path on 404/405/501, logs it, and remembers a confirmed path', () => {
    const lines: string[] = [];
    const probe = new FimPathProbe((line) => lines.push(line));
    const llama = endpoint('llamacpp-infill', 'qwen2.5-coder');
    expect(probe.pathFor(llama)).toBe('llamacpp-infill');
    expect(probe.reportFailure(llama, 'llamacpp-infill', 404)).toBe('openai-suffix');
    expect(lines.at(-1)).toContain('HTTP 404');
    expect(lines.at(-1)).toContain('"openai-suffix"');
    expect(probe.reportFailure(llama, 'openai-suffix', 501)).toBe('template');
    expect(probe.isProbing(llama)).toBe(true);
    probe.confirm(llama, 'template');
    expect(probe.isProbing(llama)).toBe(false);
    expect(probe.pathFor(llama)).toBe('template');

    const restored = new FimPathProbe(() => undefined, probe.memory());
    expect(restored.pathFor(llama)).toBe('template');
    expect(restored.isProbing(llama)).toBe(false);
  });

  it('keeps the path on failures that do not mean "not offered"', () => {
    const probe = new FimPathProbe(() => undefined);
    const groq = endpoint('openai-chat', 'llama3.1-8b');
    expect(probe.reportFailure(groq, 'openai-suffix', 500)).toBeNull();
    expect(probe.reportFailure(groq, 'openai-suffix', null)).toBeNull();
    expect(probe.pathFor(groq)).toBe('openai-suffix');
  });

  it('says so when no path is left', () => {
    const lines: string[] = [];
    const probe = new FimPathProbe((line) => lines.push(line));
    const anthropic = endpoint('anthropic', 'claude');
    expect(probe.reportFailure(anthropic, 'chat', 405)).toBeNull();
    expect(probe.pathFor(anthropic)).toBeNull();
    expect(lines.at(-1)).toContain('no other path is left');
  });

  it('starts over when the endpoint configuration changes', () => {
    const probe = new FimPathProbe(() => undefined);
    probe.confirm(endpoint('openai-chat', 'a'), 'chat');
    expect(probe.pathFor(endpoint('openai-chat', 'b'))).toBe('openai-suffix');
  });
});

describe('buildFimPlan', () => {
  const budget = { maxTokens: 64, timeLimitMs: 300 };

  it('llama.cpp /infill carries input_extra, cache_prompt, n_indent and t_max_predict_ms', () => {
    const plan = buildFimPlan(
      endpoint('llamacpp-infill', 'q'),
      'llamacpp-infill',
      { ...prompt, snippets: [{ path: 'b.py', text: 'B = 1' }] },
      budget,
    );
    expect(plan?.target.protocol).toBe('llamacpp-infill');
    expect(plan?.request).toMatchObject({
      prompt: prompt.prefix,
      suffix: prompt.suffix,
      maxTokens: 64,
      extraContext: [{ filename: 'b.py', text: 'B = 1' }],
      extraBody: { cache_prompt: true, n_indent: 4, t_max_predict_ms: 300 },
    });
  });

  it('OpenAI suffix on a llama.cpp root goes to /v1', () => {
    const plan = buildFimPlan(endpoint('llamacpp-infill', 'q'), 'openai-suffix', prompt, budget);
    expect(plan?.target).toMatchObject({ baseUrl: 'http://127.0.0.1:8080/v1', protocol: 'openai-completions' });
    expect(plan?.request.suffix).toBe(prompt.suffix);
  });

  it('Mistral FIM goes to /v1/fim/completions', () => {
    const plan = buildFimPlan(
      endpoint('openai-chat', 'codestral-latest', 'mistral-fim', 'https://codestral.mistral.ai/v1/'),
      'mistral-fim',
      prompt,
      budget,
    );
    expect(plan?.target).toMatchObject({
      baseUrl: 'https://codestral.mistral.ai/v1/fim',
      protocol: 'openai-completions',
    });
  });

  it('Ollama suffix uses /api/generate', () => {
    const plan = buildFimPlan(endpoint('ollama-chat', 'qwen2.5-coder'), 'ollama-suffix', prompt, budget);
    expect(plan?.target.protocol).toBe('ollama-generate');
    expect(plan?.request).toMatchObject({ prompt: prompt.prefix, suffix: prompt.suffix });
  });

  it('template path builds the family prompt with its stop tokens; raw mode on Ollama', () => {
    const openai = buildFimPlan(
      endpoint('openai-completions', 'deepseek-coder-6.7b', 'auto', 'http://h/v1'),
      'template',
      prompt,
      budget,
    );
    expect(openai?.request.prompt).toBe(`<｜fim▁begin｜>${prompt.prefix}<｜fim▁hole｜>${prompt.suffix}<｜fim▁end｜>`);
    expect(openai?.request.stop).toContain('<｜fim▁begin｜>');
    expect(openai?.request.suffix).toBeUndefined();
    const ollama = buildFimPlan(endpoint('ollama-generate', 'codellama:7b'), 'template', prompt, budget);
    expect(ollama?.request.extraBody).toEqual({ raw: true });
    expect(buildFimPlan(endpoint('openai-chat', 'llama3.1-8b'), 'template', prompt, budget)).toBeNull();
  });

  it('chat path marks the hole and picks the chat protocol of the family', () => {
    const plan = buildFimPlan(endpoint('openai-completions', 'x', 'auto', 'http://h/v1'), 'chat', prompt, budget);
    expect(plan?.target.protocol).toBe('openai-chat');
    const user = plan?.request.messages?.find((message) => message.role === 'user')?.content ?? '';
    expect(user).toContain(`${prompt.prefix}${CHAT_HOLE_MARKER}${prompt.suffix}`);
    expect(buildFimPlan(endpoint('anthropic', 'c'), 'chat', prompt, budget)?.target.protocol).toBe('anthropic');
    expect(buildFimPlan(endpoint('ollama-generate', 'c'), 'chat', prompt, budget)?.target.protocol).toBe('ollama-chat');
  });

  it('snippets reach paths without a slot for them as comments in the language', () => {
    const plan = buildFimPlan(
      endpoint('openai-completions', 'x', 'auto', 'http://h/v1'),
      'openai-suffix',
      { ...prompt, snippets: [{ path: 'b.py', text: 'B = 1' }] },
      budget,
    );
    expect(plan?.request.prompt).toBe(`# Path: b.py\n# B = 1\n${prompt.prefix}`);
  });
});
