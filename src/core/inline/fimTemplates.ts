/** A model family whose fill-in-the-middle tokens are known. */
export type FimFamily = 'qwen-coder' | 'deepseek-coder' | 'starcoder2' | 'codellama' | 'codestral' | 'codegemma';

/** Every known family, for validation and tables. */
export const FIM_FAMILIES: readonly FimFamily[] = [
  'qwen-coder',
  'deepseek-coder',
  'starcoder2',
  'codellama',
  'codestral',
  'codegemma',
];

/** A short piece of another file given to the model as context. */
export interface ContextSnippet {
  /** Workspace-relative path, shown to the model as the file's name. */
  readonly path: string;
  readonly text: string;
}

/** What a template fills: the hole between `prefix` and `suffix` of the file at `path`. */
export interface FimTemplateInput {
  readonly prefix: string;
  readonly suffix: string;
  /** Workspace-relative path of the file being edited. */
  readonly path: string;
  /** The repository (workspace folder) name, for repo-level templates. */
  readonly repoName: string;
  readonly snippets: readonly ContextSnippet[];
}

/** A family's raw prompt builder and the stop strings that end its answer. */
export interface FimTemplate {
  readonly family: FimFamily;
  build(input: FimTemplateInput): string;
  /** Special tokens that must end generation (the model would otherwise start a new file or a new hole). */
  readonly stop: readonly string[];
}

// Model names are matched loosely: providers spell them `Qwen/Qwen2.5-Coder-7B`, `qwen2.5-coder:1.5b-base`, `qwen3-coder-30b`...
const FAMILY_PATTERNS: readonly { readonly family: FimFamily; readonly pattern: RegExp }[] = [
  { family: 'qwen-coder', pattern: /qwen[\d.]*[-_ ]?coder/i },
  { family: 'deepseek-coder', pattern: /deepseek[-_ ]?coder/i },
  { family: 'starcoder2', pattern: /starcoder/i },
  { family: 'codellama', pattern: /code[-_ ]?llama/i },
  { family: 'codestral', pattern: /codestral/i },
  { family: 'codegemma', pattern: /codegemma/i },
];

/** The FIM family of a model name, or null when it is not one whose tokens are known (never guessed further). */
export function detectFimFamily(model: string): FimFamily | null {
  return FAMILY_PATTERNS.find(({ pattern }) => pattern.test(model))?.family ?? null;
}

const QWEN_STOP = [
  '<|endoftext|>',
  '<|fim_prefix|>',
  '<|fim_suffix|>',
  '<|fim_middle|>',
  '<|file_sep|>',
  '<|repo_name|>',
  '<|im_end|>',
];

/** Qwen2.5-Coder (and Qwen3-Coder): repo-level format with `<|repo_name|>` and `<|file_sep|>` when snippets are given. */
const qwenCoder: FimTemplate = {
  family: 'qwen-coder',
  stop: QWEN_STOP,
  build: ({ prefix, suffix, path, repoName, snippets }) => {
    const fim = `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`;
    if (snippets.length === 0) return fim;
    const files = snippets.map((snippet) => `<|file_sep|>${snippet.path}\n${snippet.text}\n`).join('');
    return `<|repo_name|>${repoName}\n${files}<|file_sep|>${path}\n${fim}`;
  },
};

/** DeepSeek-Coder: full-width bars and `▁` in its special tokens; other files go first as `#path` blocks. */
const deepseekCoder: FimTemplate = {
  family: 'deepseek-coder',
  stop: ['<｜end▁of▁sentence｜>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<|EOT|>'],
  build: ({ prefix, suffix, path, snippets }) => {
    const files = snippets.map((snippet) => `#${snippet.path}\n${snippet.text}\n`).join('');
    const header = snippets.length === 0 ? '' : `${files}#${path}\n`;
    return `<｜fim▁begin｜>${header}${prefix}<｜fim▁hole｜>${suffix}<｜fim▁end｜>`;
  },
};

/** StarCoder2 (and StarCoder): repo-level format with `<repo_name>` and `<file_sep>`. */
const starcoder2: FimTemplate = {
  family: 'starcoder2',
  stop: ['<|endoftext|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<file_sep>', '<repo_name>'],
  build: ({ prefix, suffix, path, repoName, snippets }) => {
    const fim = `<fim_prefix>${prefix}<fim_suffix>${suffix}<fim_middle>`;
    if (snippets.length === 0) return fim;
    const files = snippets.map((snippet) => `<file_sep>${snippet.path}\n${snippet.text}\n`).join('');
    return `<repo_name>${repoName}${files}<file_sep>${path}\n${fim}`;
  },
};

/** CodeLlama: `<PRE> prefix <SUF>suffix <MID>` with the spaces exactly as Meta's reference code puts them. */
const codellama: FimTemplate = {
  family: 'codellama',
  stop: ['<EOT>', '<PRE>', '<SUF>', '<MID>', '</s>'],
  build: ({ prefix, suffix }) => `<PRE> ${prefix} <SUF>${suffix} <MID>`,
};

/** Codestral: Mistral's order puts the suffix first. */
const codestral: FimTemplate = {
  family: 'codestral',
  stop: ['</s>', '[PREFIX]', '[SUFFIX]', '[MIDDLE]'],
  build: ({ prefix, suffix }) => `[SUFFIX]${suffix}[PREFIX]${prefix}`,
};

/** CodeGemma: `<|fim_prefix|>` tokens; other files separated by `<|file_separator|>`. */
const codegemma: FimTemplate = {
  family: 'codegemma',
  stop: ['<|file_separator|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<end_of_turn>', '<eos>'],
  build: ({ prefix, suffix, path, snippets }) => {
    const files = snippets.map((snippet) => `<|file_separator|>${snippet.path}\n${snippet.text}\n`).join('');
    const header = snippets.length === 0 ? '' : `${files}<|file_separator|>${path}\n`;
    return `${header}<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`;
  },
};

const TEMPLATES: Readonly<Record<FimFamily, FimTemplate>> = {
  'qwen-coder': qwenCoder,
  'deepseek-coder': deepseekCoder,
  starcoder2,
  codellama,
  codestral,
  codegemma,
};

/** The template of a family. */
export function fimTemplate(family: FimFamily): FimTemplate {
  return TEMPLATES[family];
}
