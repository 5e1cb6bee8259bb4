/** Where a refactor's answer goes: over the selection, or below it (for answers that add code, such as tests). */
export type RefactorPlacement = 'replace' | 'insertBelow';

/** A ready-made refactor instruction offered in the quick pick. */
export interface RefactorPreset {
  readonly id: string;
  /** The quick-pick label. */
  readonly label: string;
  /** One line under the label that says what the preset does. */
  readonly detail: string;
  /** What the model is told to do with the code. */
  readonly instruction: string;
  readonly placement: RefactorPlacement;
  /**
   * The answer budget as a multiple of the code's token count. Rewrites stay near the original size; documentation and
   * tests grow it, so they get more room.
   */
  readonly outputFactor: number;
}

/** The presets of issue 5, in the order the quick pick shows them. */
export const REFACTOR_PRESETS: readonly RefactorPreset[] = [
  {
    id: 'simplify',
    label: 'Simplify',
    detail: 'Make the code shorter and clearer without changing what it does',
    instruction:
      'Simplify this code: remove needless steps, nesting and repetition, and make it easier to read. Keep its behaviour exactly the same.',
    placement: 'replace',
    outputFactor: 1.5,
  },
  {
    id: 'addTypes',
    label: 'Add types',
    detail: 'Add precise type annotations',
    instruction:
      'Add precise type annotations to this code (parameters, return types, variables where they help). Do not change its behaviour.',
    placement: 'replace',
    outputFactor: 1.8,
  },
  {
    id: 'extractFunction',
    label: 'Extract function',
    detail: 'Pull a well-named helper function out of this code',
    instruction:
      'Extract the most self-contained part of this code into a well-named helper function, and call it from where the code was. Return both the helper and the updated code.',
    placement: 'replace',
    outputFactor: 2,
  },
  {
    id: 'addDocumentation',
    label: 'Add documentation',
    detail: 'Add doc comments in the style of the language',
    instruction:
      "Add documentation comments in the language's usual style (JSDoc, docstrings, ...) to the functions, classes and non-obvious parts of this code. Do not change the code itself.",
    placement: 'replace',
    outputFactor: 2.5,
  },
  {
    id: 'improveNames',
    label: 'Improve names',
    detail: 'Rename variables and functions so that they explain themselves',
    instruction:
      'Rename the local variables, parameters and inner functions of this code so that their names explain what they hold or do. Do not rename anything visible outside this code. Do not change its behaviour.',
    placement: 'replace',
    outputFactor: 1.5,
  },
  {
    id: 'fixBug',
    label: 'Fix the bug',
    detail: 'Find and fix the most likely bug',
    instruction:
      'Find the most likely bug in this code and fix it with the smallest change. Add a short comment at the fix saying what was wrong.',
    placement: 'replace',
    outputFactor: 1.5,
  },
  {
    id: 'toAsyncAwait',
    label: 'Convert to async/await',
    detail: 'Replace callbacks and promise chains with async/await',
    instruction:
      'Convert this code from callbacks or promise chains to async/await, keeping error handling and behaviour the same.',
    placement: 'replace',
    outputFactor: 1.5,
  },
  {
    id: 'writeTests',
    label: 'Write tests for this',
    detail: 'Write unit tests, inserted below the code',
    instruction:
      'Write unit tests for this code with the test framework the file or language most likely uses. Return only the tests, not the original code.',
    placement: 'insertBelow',
    outputFactor: 3,
  },
];

/** The preset with this id, or undefined. */
export function findRefactorPreset(id: string): RefactorPreset | undefined {
  return REFACTOR_PRESETS.find((preset) => preset.id === id);
}
