import type { BackendRole, ChatMessage } from '../endpoint';
import type { RefactorPlacement } from './refactorPresets';
import { buildRefactorMessages, refactorOutputBudget, refactorPrediction, surroundingContext } from './refactorPrompt';
import { planRefactorRegion, type RegionPlan } from './refactorRegion';
import type { RefactorJob } from './refactorRun';

/** Lines of context sent above and below the code, so the model sees names and style without the whole file. */
export const REFACTOR_CONTEXT_LINES = 40;

/** The largest answer budget a refactor asks for, in tokens. */
export const MAX_REFACTOR_OUTPUT_TOKENS = 16_384;

/** What a refactor is asked, as the editor states it: plain values, converted by the command adapter. */
export interface RefactorTaskInput {
  /** The document's whole text. */
  readonly text: string;
  /** The chosen code's offsets in `text` (selection, enclosing function or file), before the region is planned. */
  readonly start: number;
  readonly end: number;
  /** The editor's language id, e.g. `typescript`. */
  readonly languageId: string;
  /** A workspace-relative path, for the model's orientation only. */
  readonly filePath: string;
  /** What to do, from a preset or typed by the person. */
  readonly instruction: string;
  readonly placement: RefactorPlacement;
  /** The answer budget as a multiple of the code's token count (the preset's). */
  readonly outputFactor: number;
  /** The editor's indentation style, for re-indenting the answer. */
  readonly indentation: { readonly insertSpaces: boolean; readonly tabSize: number };
  /** `longContext` for "Retry on the long-context model"; otherwise the router decides. */
  readonly role?: BackendRole;
  /** Extra request headers (the end-to-end suite sends the simulator's `x-sim-fault` through this). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/** What preparing a refactor needs around it. */
export interface PrepareRefactorDeps {
  /** Token estimate for the prompt and the answer budget (cl100k or the rough count before the tokenizer loads). */
  readonly countTokens: (text: string) => number;
}

/** A refactor job without its document: the adapter adds the editor's document when it starts the run. */
export type RefactorJobSpec = Omit<RefactorJob, 'document'>;

/** A prepared refactor: where the answer goes, what is sent, how large, and the job to hand to `startRefactor`. */
export interface PreparedRefactor {
  /** Where the answer goes; its region's offset is what a retry shifts by when edits above moved the code. */
  readonly plan: RegionPlan;
  readonly messages: readonly ChatMessage[];
  /** Estimated prompt tokens (each message's content plus 4 for its role framing). */
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  readonly job: RefactorJobSpec;
}

/**
 * Plans the region for the chosen code, builds the prompt (the code with up to `REFACTOR_CONTEXT_LINES` lines either
 * side) and sizes it: the prompt's token estimate for the router's fit check, and the answer budget from the code's size
 * and the preset's factor, capped at `MAX_REFACTOR_OUTPUT_TOKENS`. Pure and synchronous, so the command adapter's only
 * work is to read the editor and start the run.
 */
export function prepareRefactor(deps: PrepareRefactorDeps, input: RefactorTaskInput): PreparedRefactor {
  const plan = planRefactorRegion(input.text, input.start, input.end, input.placement);
  const context = surroundingContext(
    input.text.replace(/\r/g, '').split('\n'),
    plan.startLine,
    plan.endLine,
    REFACTOR_CONTEXT_LINES,
  );
  const promptInput = {
    instruction: input.instruction,
    languageId: input.languageId,
    filePath: input.filePath,
    code: plan.code,
    contextBefore: context.before,
    contextAfter: context.after,
    insertBelow: input.placement === 'insertBelow',
  };
  const messages = buildRefactorMessages(promptInput);
  const prediction = refactorPrediction(promptInput);
  const count = deps.countTokens;
  const promptTokens = messages.reduce((sum, message) => sum + count(message.content) + 4, 0);
  const maxOutputTokens = refactorOutputBudget(count(plan.code), input.outputFactor, MAX_REFACTOR_OUTPUT_TOKENS);
  const job: RefactorJobSpec = {
    region: plan.region,
    messages,
    promptTokens,
    maxOutputTokens,
    reindent: {
      ...input.indentation,
      baseIndent: plan.baseIndent,
      firstLineIndentPresent: plan.firstLineIndentPresent,
    },
    leadingText: plan.leadingText,
    trailingText: plan.trailingText,
    ...(prediction === null ? {} : { prediction }),
    // Absent rather than undefined: the job says only what was asked.
    ...(input.role === undefined ? {} : { role: input.role }),
    ...(input.extraHeaders === undefined ? {} : { extraHeaders: input.extraHeaders }),
  };
  return { plan, messages, promptTokens, maxOutputTokens, job };
}
