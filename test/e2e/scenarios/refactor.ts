// Issue 5 in a real editor: a refactor streams into the document; Accept then ONE undo restores the original; Reject
// restores it; a cancel and a disconnect mid-stream restore it; typing during the stream is never overwritten; a save
// mid-stream writes the original to disk. The backend is a simulator started in the extension host for each scenario.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import type { Scenario, ScenarioContext } from '../suite/scenario';

const ORIGINAL_FILE = [
  'class Box:',
  '    def grow(self, n):',
  '        s = self.size',
  '        s = s + n',
  '        self.size = s',
  '',
  '    def other(self):',
  '        return 1',
  '',
].join('\n');
const METHOD = '    def grow(self, n):\n        s = self.size\n        s = s + n\n        self.size = s\n';
// The model answers dedented, fenced, with a sentence before and after; a long comment block makes the stream last.
const FILLER = Array.from(
  { length: 40 },
  (_, index) => `    # step ${index}: the size grows by n, once, in place`,
).join('\n');
const NEW_CODE = `def grow(self, n):\n${FILLER}\n    self.size += n`;
const ANSWER = `Here is the simplified method:\n\n\`\`\`python\n${NEW_CODE}\n\`\`\`\n\nThis adds n in place.`;
const EXPECTED_METHOD = `${NEW_CODE.split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}\n`;
const EXPECTED_FILE = ORIGINAL_FILE.replace(METHOD, EXPECTED_METHOD);

const COMMAND = 'latencyCopilot.refactorSelection';

interface CommandResult {
  readonly outcome: string;
  readonly endpointId: string | null;
}

function isCommandResult(value: unknown): value is CommandResult {
  return typeof value === 'object' && value !== null && 'outcome' in value && typeof value.outcome === 'string';
}

/** Starts a simulator answering every refactor with ANSWER, and points the burst backend at it. */
async function setUp(
  ctx: ScenarioContext,
  tokensPerSec: number,
  file: { readonly name: string; readonly content: string; readonly answer: string } = {
    name: 'box.py',
    content: ORIGINAL_FILE,
    answer: ANSWER,
  },
): Promise<{ sim: RunningSimulator; editor: vscode.TextEditor }> {
  await ctx.activateExtension();
  const sim = await startSimulator({ tokensPerSec, ttftMs: 30, completionFor: () => file.answer });
  ctx.onCleanup(() => sim.close());
  ctx.onCleanup(() => vscode.commands.executeCommand('notifications.clearAll'));
  const label = `E2E refactor sim ${sim.port}`;
  await ctx.updateSettings({
    'latencyCopilot.backends.useSimulator': false,
    'latencyCopilot.backends.burst': [
      { baseUrl: `${sim.baseUrl}/v1`, protocol: 'openai-chat', model: 'e2e-refactor', label, fim: 'none' },
    ],
  });
  await ctx.waitForLog(new RegExp(`Backends: [^\\n]*${label}`), { timeoutMs: 20_000 });
  const editor = await ctx.openFile(file.name, file.content);
  // Select the whole method, lines 2-5 (1-based), including its final newline.
  editor.selection = new vscode.Selection(1, 0, 5, 0);
  return { sim, editor };
}

/** Runs the command with an instruction (no quick pick) and optional simulator headers; resolves when streaming ended. */
function refactor(extraHeaders?: Record<string, string>): Thenable<unknown> {
  return vscode.commands.executeCommand(COMMAND, {
    instruction: 'Simplify this method',
    ...(extraHeaders === undefined ? {} : { extraHeaders }),
  });
}

async function resultOf(command: Thenable<unknown>): Promise<CommandResult> {
  const result: unknown = await command;
  assert.ok(isCommandResult(result), `the command should resolve with its outcome, got ${JSON.stringify(result)}`);
  return result;
}

/** Waits until streamed text has reached the document. */
async function waitForStreaming(ctx: ScenarioContext, document: vscode.TextDocument): Promise<void> {
  await ctx.waitFor('streamed text in the editor', () => document.getText().includes('# step 0'), {
    timeoutMs: 20_000,
    intervalMs: 5,
  });
}

/** Accept, then one undo restores the original. The whole refactor is one undo step. */
export const refactorAcceptUndoScenario: Scenario = {
  name: 'refactor: streams into the editor in batches; Accept, then one undo restores the original',
  timeoutMs: 120_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 1500);
    const document = editor.document;
    let changeEvents = 0;
    const counting = vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.document === document && event.contentChanges.length > 0) changeEvents += 1;
    });
    ctx.onCleanup(() => counting.dispose());
    const result = await resultOf(refactor());
    assert.equal(result.outcome, 'review');
    assert.equal(
      document.getText(),
      EXPECTED_FILE,
      'the editor should hold the re-indented code without fences or prose',
    );
    // Streamed (several edits), batched (far fewer edits than the ~600 tokens).
    ctx.note(`${changeEvents} document edits for the whole refactor`);
    assert.ok(changeEvents >= 2 && changeEvents < 200, `expected a few frame-batched edits, got ${changeEvents}`);

    const lenses = await ctx.uiQuery('.contentWidgets .codelens-decoration, .codelens-decoration');
    if (lenses.available) {
      await ctx.waitFor(
        'the Accept / Reject code lenses',
        async () => {
          const answer = await ctx.uiQuery('.codelens-decoration');
          return (
            answer.available &&
            answer.value.some((element) => element.text.includes('Accept') && element.text.includes('Reject'))
          );
        },
        { timeoutMs: 15_000 },
      );
      await ctx.screenshot('refactor-review');
    }

    await vscode.commands.executeCommand('latencyCopilot.refactor.accept', document.uri);
    assert.equal(document.getText(), EXPECTED_FILE, 'Accept keeps the refactored code');
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('undo');
    await ctx.waitFor('one undo to restore the original', () => document.getText() === ORIGINAL_FILE, {
      timeoutMs: 5_000,
    });
  },
};

/** Reject puts the original back exactly. */
export const refactorRejectScenario: Scenario = {
  name: 'refactor: Reject restores the original text exactly',
  timeoutMs: 120_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 3000);
    const result = await resultOf(refactor());
    assert.equal(result.outcome, 'review');
    assert.equal(editor.document.getText(), EXPECTED_FILE);
    await vscode.commands.executeCommand('latencyCopilot.refactor.reject', editor.document.uri);
    assert.equal(editor.document.getText(), ORIGINAL_FILE);
  },
};

/** Cancel mid-stream: the document returns byte for byte to its original text. */
export const refactorCancelScenario: Scenario = {
  name: 'refactor: cancel mid-stream restores the original',
  timeoutMs: 120_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 40);
    const command = refactor();
    await waitForStreaming(ctx, editor.document);
    await ctx.screenshot('refactor-streaming');
    await vscode.commands.executeCommand('latencyCopilot.refactor.cancel');
    const result = await resultOf(command);
    assert.equal(result.outcome, 'cancelled');
    assert.equal(editor.document.getText(), ORIGINAL_FILE);
  },
};

/** A disconnect mid-stream (the simulator destroys the socket): restored, and the person is told with Retry buttons. */
export const refactorDisconnectScenario: Scenario = {
  name: 'refactor: a disconnect mid-stream restores the original and offers Retry',
  timeoutMs: 120_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 400);
    const result = await resultOf(refactor({ 'x-sim-fault': 'disconnect:120' }));
    assert.equal(result.outcome, 'failed');
    assert.equal(editor.document.getText(), ORIGINAL_FILE);
    // Headless, the page never has focus and VS Code holds toasts back: read the notification center.
    await vscode.commands.executeCommand('notifications.showList');
    ctx.onCleanup(() => vscode.commands.executeCommand('notifications.hideList'));
    let seen = '';
    const row = await ctx
      .waitFor(
        'the error with Retry buttons',
        async () => {
          const answer = await ctx.uiQuery('.notification-toast, .notifications-list-container .monaco-list-row');
          if (!answer.available) return ctx.skip(answer.reason);
          seen = answer.value.map((element) => element.text.slice(0, 160)).join(' | ');
          return answer.value.find((element) => element.text.includes('Retry on the long-context model'));
        },
        { timeoutMs: 15_000 },
      )
      .catch((error: unknown) => {
        throw new Error(`${String(error)}; notifications seen: ${seen || 'none'}`);
      });
    ctx.note(`message: ${row.text.slice(0, 200)}`);
    assert.ok(/lost mid-stream|cannot reach/i.test(row.text), `the message should say what happened: ${row.text}`);
    await ctx.screenshot('refactor-disconnect');
  },
};

/** Typing above the region mid-stream is kept and the stream goes on; typing inside it stops the stream and is kept. */
export const refactorTypingScenario: Scenario = {
  name: 'refactor: typing during the stream is never overwritten',
  timeoutMs: 150_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 40);
    const document = editor.document;
    // 1. Outside the region (above it): the stream goes on, the typing stays, and one undo after Accept still
    //    restores the original method (the typing stays too).
    const first = refactor();
    await waitForStreaming(ctx, document);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await ctx.type('# typed above\n');
    const firstResult = await resultOf(first);
    assert.equal(firstResult.outcome, 'review');
    assert.equal(document.getText(), `# typed above\n${EXPECTED_FILE}`);
    await vscode.commands.executeCommand('latencyCopilot.refactor.accept', document.uri);
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('undo');
    await ctx.waitFor(
      'one undo to restore the method, keeping the typing',
      () => document.getText() === `# typed above\n${ORIGINAL_FILE}`,
      { timeoutMs: 5_000 },
    );

    // 2. Inside the region: the stream stops at once and the typing is kept.
    editor.selection = new vscode.Selection(2, 0, 6, 0);
    const second = refactor();
    await waitForStreaming(ctx, document);
    editor.selection = new vscode.Selection(3, 4, 3, 4);
    await ctx.type('XYZ');
    const secondResult = await resultOf(second);
    assert.equal(secondResult.outcome, 'interrupted');
    const after = document.getText();
    assert.ok(after.includes('XYZ'), 'the typing inside the region is kept');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(document.getText(), after, 'nothing is written after the person typed inside the region');
  },
};

/** A save mid-stream (Ctrl+S, auto save) writes the original, never half a refactor. */
export const refactorSaveScenario: Scenario = {
  name: 'refactor: a save mid-stream writes the original to disk, never half a refactor',
  timeoutMs: 120_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 40);
    const command = refactor();
    await waitForStreaming(ctx, editor.document);
    assert.ok(await editor.document.save(), 'the save should go through');
    const onDisk = await readFile(editor.document.uri.fsPath, 'utf8');
    assert.equal(onDisk, ORIGINAL_FILE, 'the file on disk must not hold half a refactor');
    const result = await resultOf(command);
    assert.equal(result.outcome, 'cancelled');
    assert.equal(editor.document.getText(), ORIGINAL_FILE);
  },
};

const CALC_FILE = [
  'function first(values) {',
  '  return values[0];',
  '}',
  '',
  'function total(values) {',
  '  let sum = 0;',
  '  for (const value of values) {',
  '    sum = sum + value;',
  '  }',
  '  return sum;',
  '}',
  '',
].join('\n');
const TOTAL_ANSWER = '```js\nfunction total(values) {\n  return values.reduce((sum, value) => sum + value, 0);\n}\n```';

/** No selection: the enclosing function (from the document symbol provider) is refactored, and the person is told so. */
export const refactorEnclosingFunctionScenario: Scenario = {
  name: 'refactor: with no selection, the enclosing function is refactored and named',
  timeoutMs: 180_000,
  async run(ctx) {
    await ctx.updateSettings({ 'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' } });
    const { editor } = await setUp(ctx, 3000, { name: 'calc.js', content: CALC_FILE, answer: TOTAL_ANSWER });
    // The cursor inside `total`, nothing selected.
    editor.selection = new vscode.Selection(7, 4, 7, 4);
    // The JavaScript language service needs a moment to start: wait until it reports the symbols.
    await ctx.waitFor(
      'document symbols for calc.js',
      async () => {
        const symbols: unknown = await vscode.commands.executeCommand(
          'vscode.executeDocumentSymbolProvider',
          editor.document.uri,
        );
        return Array.isArray(symbols) && symbols.length >= 2;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const result = await resultOf(refactor());
    assert.equal(result.outcome, 'review');
    await ctx.waitForLog(/on function `total` \(no selection: the enclosing one\)/);
    assert.equal(
      editor.document.getText(),
      'function first(values) {\n  return values[0];\n}\n\nfunction total(values) {\n  return values.reduce((sum, value) => sum + value, 0);\n}\n',
    );
    await vscode.commands.executeCommand('latencyCopilot.refactor.reject', editor.document.uri);
    assert.equal(editor.document.getText(), CALC_FILE);
  },
};

/** The keybinding opens the quick pick; a typed instruction runs; Escape (while streaming) cancels and restores. */
export const refactorKeybindingScenario: Scenario = {
  name: 'refactor: Ctrl+Alt+E opens the quick pick, a typed instruction streams, Escape cancels and restores',
  timeoutMs: 150_000,
  async run(ctx) {
    const { editor } = await setUp(ctx, 40);
    const opened = await ctx.uiPress('Control+Alt+e');
    if (!opened.available) ctx.skip(opened.reason);
    await ctx.waitFor(
      'the refactor quick pick',
      async () => {
        const answer = await ctx.uiQuery(
          '.quick-input-widget .quick-input-title, .quick-input-widget .monaco-list-row',
        );
        return answer.available && answer.value.some((element) => element.visible && element.text.includes('Simplify'));
      },
      { timeoutMs: 20_000 },
    );
    await ctx.uiTypeKeys('Use augmented assignment');
    await ctx.waitFor('the typed instruction as the first item', async () => {
      const answer = await ctx.uiQuery('.quick-input-widget .monaco-list-row');
      return (
        answer.available &&
        answer.value.some((element) => element.visible && element.text.includes('Use augmented assignment'))
      );
    });
    await ctx.screenshot('refactor-quick-pick');
    await ctx.uiPress('Enter');
    await ctx.waitForLog(/Refactor "Refactor" on the selection \(4 lines\)/);
    await waitForStreaming(ctx, editor.document);
    await ctx.uiPress('Escape');
    await ctx.waitForLog(/Refactor "Refactor" ended: cancelled/, { timeoutMs: 20_000 });
    await ctx.waitFor('the original text back', () => editor.document.getText() === ORIGINAL_FILE, {
      timeoutMs: 10_000,
    });
  },
};

/** Closing the editor mid-stream (reverting its changes) leaves the file as it is on disk, and the stream stops. */
export const refactorCloseEditorScenario: Scenario = {
  name: 'refactor: closing the editor mid-stream leaves the file as on disk',
  timeoutMs: 120_000,
  async run(ctx) {
    // Slow enough that the stream is still running when the close lands, even when each edit takes 200 ms to apply.
    const { editor } = await setUp(ctx, 10);
    const document = editor.document;
    const command = refactor();
    await waitForStreaming(ctx, document);
    // What "Don't Save" does when a person closes the dirty tab, without the modal dialog.
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    const result = await resultOf(command);
    assert.equal(result.outcome, 'interrupted');
    assert.equal(await readFile(document.uri.fsPath, 'utf8'), ORIGINAL_FILE);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Nothing was streamed into the document after its editor closed.
    const stillOpen = vscode.workspace.textDocuments.find((open) => open.uri.toString() === document.uri.toString());
    if (stillOpen !== undefined) {
      assert.equal(stillOpen.getText(), ORIGINAL_FILE, 'the closed document must not receive streamed text');
      assert.equal(stillOpen.isDirty, false);
    }
  },
};
