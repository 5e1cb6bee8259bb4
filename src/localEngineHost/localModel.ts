// One loaded GGUF model with one context sequence, run one request at a time. The sequence keeps the previous prompt's
// evaluated tokens: node-llama-cpp evaluates only what differs from them (the same prompt-cache reuse llama-server does).
import { performance } from 'node:perf_hooks';
import type {
  ChatHistoryItem,
  ChatWrapperLike,
  CompletionOptions,
  LlamaCompletionLike,
  LlamaContextLike,
  LlamaContextSequenceLike,
  LlamaLike,
  LlamaModelLike,
  LlamaTextLike,
  NodeLlamaCppModule,
  Token,
} from './nodeLlamaCpp';

/** A chat message as the OpenAI API sends it (text content only). */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** What to generate from: a raw prompt (`/v1/completions`) or a conversation (`/v1/chat/completions`). */
export type GenerationInput =
  | { readonly kind: 'prompt'; readonly prompt: string }
  | { readonly kind: 'infill'; readonly prefix: string; readonly suffix: string }
  | { readonly kind: 'chat'; readonly messages: readonly ChatMessage[] };

/** Sampling and stopping, in OpenAI's terms. */
export interface SamplingParams {
  readonly maxTokens: number;
  readonly temperature: number | undefined;
  readonly topP: number | undefined;
  readonly seed: number | undefined;
  readonly stop: readonly string[];
  /** Token id -> additive logit, as OpenAI's `logit_bias`. */
  readonly logitBias: ReadonlyMap<number, number>;
}

/** Counts and timings of one generation, in llama.cpp's terms (ms). */
export interface GenerationOutcome {
  readonly finishReason: 'stop' | 'length';
  readonly promptTokens: number;
  /** Prompt tokens that were already evaluated in the sequence from the previous request (reused, not evaluated again). */
  readonly cachedPromptTokens: number;
  readonly completionTokens: number;
  /** From the start to the first generated token, in ms (prompt evaluation plus the first sample). */
  readonly promptMs: number;
  /** From the first generated token to the last, in ms. */
  readonly predictedMs: number;
  /** True when the client left and the generation was stopped early. */
  readonly aborted: boolean;
}

/** The prompt does not fit the context window (the server answers 400 with llama.cpp's wording). */
export class ContextTooLongError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
  ) {
    super(`the request exceeds the available context size (${promptTokens} prompt tokens, context ${contextSize})`);
    this.name = 'ContextTooLongError';
  }
}

/** The default window when the caller asks for none: the training length, capped so a small machine can hold it. */
const DEFAULT_MAX_CONTEXT = 8192;
/** Sampling temperature when the request names none: llama-server's default, so both engines answer alike. */
const DEFAULT_TEMPERATURE = 0.8;

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}

/** A loaded model, ready to serve. */
export class LocalModel {
  private constructor(
    private readonly module: NodeLlamaCppModule,
    private readonly llama: LlamaLike,
    private readonly model: LlamaModelLike,
    private readonly context: LlamaContextLike,
    private readonly sequence: LlamaContextSequenceLike,
    private readonly completion: LlamaCompletionLike,
    private readonly chatWrapper: ChatWrapperLike | null,
  ) {}

  /** Loads the native binding (CPU only, never builds), the model and one context sequence. */
  static async load(
    module: NodeLlamaCppModule,
    options: { modelPath: string; contextSize: number; threads: number },
  ): Promise<LocalModel> {
    const llama = await module.getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });
    const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
    // Never past the training length: positions beyond it were never trained and produce garbage.
    const contextSize = Math.min(
      options.contextSize > 0 ? options.contextSize : DEFAULT_MAX_CONTEXT,
      model.trainContextSize,
    );
    const context = await model.createContext({
      contextSize,
      sequences: 1,
      ...(options.threads > 0 ? { threads: options.threads } : {}),
    });
    const sequence = context.getSequence();
    const completion = new module.LlamaCompletion({ contextSequence: sequence });
    return new LocalModel(module, llama, model, context, sequence, completion, module.resolveChatWrapper(model));
  }

  /** The window served, in tokens. */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** True when `/v1/completions` with a `suffix` runs as fill-in-the-middle with the model's own FIM tokens. */
  get infillSupported(): boolean {
    return this.completion.infillSupported;
  }

  /** Renders the input as tokens, with the chat template's stop triggers for a conversation. */
  private tokensOf(input: GenerationInput): { tokens: Token[]; stopTriggers: readonly LlamaTextLike[] } {
    // Special tokens in a raw prompt are parsed (as llama-server does), so a FIM template the extension renders works.
    if (input.kind === 'prompt') return { tokens: this.model.tokenize(input.prompt, true), stopTriggers: [] };
    if (input.kind === 'infill') {
      // Counted for the window check and usage; node-llama-cpp adds the FIM tokens around them.
      return {
        tokens: [...this.model.tokenize(input.prefix, false), ...this.model.tokenize(input.suffix, false)],
        stopTriggers: [],
      };
    }
    if (!this.chatWrapper) throw new Error('the model has no chat template; use /v1/completions');
    const history: ChatHistoryItem[] = input.messages.map((message): ChatHistoryItem =>
      message.role === 'assistant'
        ? { type: 'model', response: [message.content] }
        : { type: message.role, text: message.content },
    );
    // An empty model turn at the end: the rendered text ends with the assistant header, where the answer starts.
    history.push({ type: 'model', response: [] });
    const state = this.chatWrapper.generateContextState({ chatHistory: history });
    return { tokens: state.contextText.tokenize(this.model.tokenizer), stopTriggers: state.stopGenerationTriggers };
  }

  /**
   * Generates, calling `onText` with each decoded piece as it comes. Stops at `maxTokens`, a stop string, the model's
   * end of turn, or when `signal` aborts (then `aborted` is true and the text so far was already delivered).
   */
  async generate(
    input: GenerationInput,
    params: SamplingParams,
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerationOutcome> {
    const startedAt = performance.now();
    const { tokens, stopTriggers } = this.tokensOf(input);
    if (tokens.length + 1 > this.contextSize) throw new ContextTooLongError(tokens.length, this.contextSize);
    // At least one prompt token is always evaluated again to produce the next token's logits.
    const cachedPromptTokens = Math.min(
      commonPrefixLength(this.sequence.contextTokens, tokens),
      Math.max(0, tokens.length - 1),
    );
    let firstTokenAt: number | null = null;
    let lastTokenAt = startedAt;
    let completionTokens = 0;
    const tokenBias = new this.module.TokenBias(this.model.tokenizer);
    for (const [token, logit] of params.logitBias) {
      tokenBias.set(token, { logit });
      // node-llama-cpp's public `set` drops biases on end-of-generation tokens, but OpenAI's `logit_bias` on EOS is the
      // documented way to make a model stop, and llama-server honours it: write it into the same internal table.
      if ('_biases' in tokenBias && tokenBias._biases instanceof Map) tokenBias._biases.set(token, logit);
    }
    let result;
    try {
      const options: CompletionOptions = {
        onToken: (generated) => {
          const now = performance.now();
          firstTokenAt ??= now;
          lastTokenAt = now;
          completionTokens += generated.length;
        },
        onTextChunk: onText,
        signal,
        stopOnAbortSignal: true,
        // Room left in the window: the answer stops there rather than shifting the context.
        maxTokens: Math.max(1, Math.min(params.maxTokens, this.contextSize - tokens.length)),
        // llama-server samples at 0.8 when the request names no temperature (node-llama-cpp would decode greedily).
        temperature: params.temperature ?? DEFAULT_TEMPERATURE,
        ...(params.topP !== undefined ? { topP: params.topP } : {}),
        ...(params.seed !== undefined ? { seed: params.seed } : {}),
        ...(params.logitBias.size > 0 ? { tokenBias } : {}),
        customStopTriggers: [...params.stop, ...stopTriggers],
      };
      result =
        input.kind === 'infill' && this.completion.infillSupported
          ? await this.completion.generateInfillCompletionWithMeta(
              this.model.tokenize(input.prefix, false),
              this.model.tokenize(input.suffix, false),
              options,
            )
          : await this.completion.generateCompletionWithMeta(
              input.kind === 'infill' ? this.model.tokenize(input.prefix, false) : tokens,
              options,
            );
    } catch (error) {
      // Aborted before the first token: node-llama-cpp throws the signal's reason.
      if (signal.aborted) result = { response: '', metadata: { stopReason: 'abort' } };
      else throw error;
    }
    // No token at all (an immediate end of generation): the whole time was prompt evaluation.
    const firstAt = firstTokenAt ?? performance.now();
    if (firstTokenAt === null) lastTokenAt = firstAt;
    return {
      finishReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
      promptTokens: tokens.length,
      cachedPromptTokens,
      completionTokens,
      promptMs: firstAt - startedAt,
      predictedMs: lastTokenAt - firstAt,
      aborted: result.metadata.stopReason === 'abort' || signal.aborted,
    };
  }

  /** Frees the context, the model and the binding. */
  async dispose(): Promise<void> {
    this.completion.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
