// Next-edit suggestions in a real editor: a renamed parameter's uses below are predicted by the simulator (its scripted
// answer carries the newest rename through the region), drawn as decorations; Tab applies the near one (checked on
// disk), Escape dismisses the next, and Tab jumps to one further down before the next Tab applies it. Screenshots in a
// dark and a light theme show the decorations.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { SessionView } from '../../../src/core/nextEdit/suggestionSession';
import { startSimulator } from '../../../src/sim/simulator';
import type { Scenario, ScenarioContext } from '../suite/scenario';

// The parameter `value` is renamed to `amount` on line 1 (1-based); its uses are on lines 3, 5 and 10: apart, so each
// is a hunk of its own, and line 10 is more than a few lines below the cursor (Tab jumps there first).
const ORIGINAL = [
  'def scale(value, factor):',
  '    """Scale by a factor."""',
  '    doubled = value * 2',
  '    # keep the sign',
  '    halved = value / 2',
  '    total = doubled + halved',
  '    if total < 0:',
  '        total = -total',
  '    result = total * factor',
  '    return result + value',
  '',
  '',
  'print(scale(3, 4))',
  '',
].join('\n');

function isApi(value: unknown): value is { nextEditView: () => SessionView } {
  return (
    typeof value === 'object' && value !== null && 'nextEditView' in value && typeof value.nextEditView === 'function'
  );
}

function lineOf(document: vscode.TextDocument, line: number): string {
  return document.lineAt(line).text;
}

/** Waits until the current hunk is the rename on `line` (0-based) of a complete prediction. */
async function waitForCurrent(ctx: ScenarioContext, view: () => SessionView, line: number): Promise<SessionView> {
  let last = '(nothing shown)';
  ctx.onCleanup(() => ctx.note(`last next-edit view while waiting for line ${line + 1}: ${last}`));
  return ctx.waitFor(
    `a next edit on line ${line + 1}`,
    () => {
      const now = view();
      const current = now.current;
      last =
        current === null
          ? '(nothing shown)'
          : `line ${current.line + 1}: "${current.shown.oldText}" -> "${current.shown.newText}", ${now.decorated.length} drawn, complete ${now.complete}`;
      return current !== null && now.complete && current.line === line && current.shown.newText === 'amount'
        ? now
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The whole flow: rename, decoration, Tab applies, Escape dismisses, Tab jumps then applies. */
export const nextEditScenario: Scenario = {
  name: 'next edit: a rename is carried to its uses; Tab applies, Escape dismisses, Tab jumps further down',
  timeoutMs: 180_000,
  async run(ctx) {
    const api: unknown = await ctx.activateExtension();
    assert.ok(isApi(api), 'activate() should return { nextEditView }');
    const view = () => api.nextEditView();
    // The simulator answers next-edit prompts with its scripted rewrite (the newest rename carried through the region).
    const sim = await startSimulator({ tokensPerSec: 2_000, ttftMs: 30 });
    ctx.onCleanup(() => sim.close());
    ctx.onCleanup(() => vscode.commands.executeCommand('notifications.clearAll'));
    const label = `E2E next-edit sim ${sim.port}`;
    await ctx.updateSettings({
      'latencyCopilot.backends.useSimulator': false,
      'latencyCopilot.backends.burst': [
        { baseUrl: `${sim.baseUrl}/v1`, protocol: 'openai-chat', model: 'e2e-next-edit', label, fim: 'none' },
      ],
      'latencyCopilot.nextEdit.enabled': true,
      // Ghost text from inline completions would take Tab (the next-edit keybinding steps aside for it).
      'latencyCopilot.inline.enabled': false,
      'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
      'workbench.colorTheme': 'Default Dark Modern',
    });
    await ctx.waitForLog(new RegExp(`Backends: [^\\n]*${label}`), { timeoutMs: 20_000 });
    const editor = await ctx.openFile('scale.py', ORIGINAL);
    const document = editor.document;

    // Rename the parameter as a person does: select it, type the new name.
    editor.selection = new vscode.Selection(0, 10, 0, 15);
    const renamedAt = Date.now();
    await ctx.type('amount');
    const shown = await waitForCurrent(ctx, view, 2);
    ctx.note(`first next edit complete ${Date.now() - renamedAt} ms after typing began (includes typing)`);
    assert.deepEqual(
      shown.decorated.map((hunk) => hunk.line + 1),
      [3, 5, 10],
      'the three uses of the parameter should be drawn',
    );
    // The editor draws decorations on its next frame, after the session has them: poll the DOM rather than read it once.
    const gutter = await ctx.waitFor(
      'a gutter marker on the current hunk',
      async () => {
        const answer = await ctx.uiQuery('.glyph-margin-widgets .cgmr, .margin-view-overlays .cgmr');
        return !answer.available || answer.value.length >= 1 ? answer : undefined;
      },
      { timeoutMs: 5_000 },
    );
    if (gutter.available) assert.ok(gutter.value.length >= 1, 'the current hunk should have a gutter marker');
    await sleep(300);
    const dark = await ctx.screenshot('next-edit');
    if (dark.available) ctx.note(`screenshot ${dark.value}`);
    // Tab applies the near one (line 3).
    const pressed = await ctx.uiPress('Tab');
    if (!pressed.available) ctx.skip(pressed.reason);
    await ctx.waitFor('line 3 renamed', () => lineOf(document, 2) === '    doubled = amount * 2', {
      timeoutMs: 10_000,
    });
    const saved = await ctx.saveAndRead();
    assert.ok(saved.includes('    doubled = amount * 2\n'), `file on disk after Tab:\n${saved}`);
    assert.ok(saved.includes('    halved = value / 2\n'), 'only the current hunk is applied');

    // Escape dismisses the next one (line 5); the one on line 10 becomes current.
    await waitForCurrent(ctx, view, 4);
    await ctx.uiPress('Escape');
    await waitForCurrent(ctx, view, 9);
    assert.equal(lineOf(document, 4), '    halved = value / 2', 'Escape applies nothing');

    // Tab jumps to line 10 (more than a few lines below the cursor), the next Tab applies it.
    await ctx.uiPress('Tab');
    await ctx.waitFor('the cursor on line 10', () => editor.selection.active.line === 9, { timeoutMs: 10_000 });
    assert.equal(lineOf(document, 9), '    return result + value', 'the jump applies nothing');
    await ctx.uiPress('Tab');
    await ctx.waitFor('line 10 renamed', () => lineOf(document, 9) === '    return result + amount', {
      timeoutMs: 10_000,
    });
    const final = await ctx.saveAndRead();
    assert.ok(final.includes('    return result + amount\n'), `file on disk after the second Tab:\n${final}`);
    assert.ok(final.includes('    halved = value / 2\n'), 'the dismissed use stays as it was');
    // The dismissed change is not offered again by a chained prediction until the person types.
    await sleep(1_500);
    assert.ok(
      view().decorated.every((hunk) => hunk.line !== 4),
      'a chained prediction must not show the dismissed change again',
    );

    // The light theme, with a second rename's decorations (`total` -> `sum` on line 6, used on lines 7 to 9).
    await ctx.updateSettings({ 'workbench.colorTheme': 'Default Light Modern' });
    editor.selection = new vscode.Selection(5, 4, 5, 9);
    await ctx.type('sum');
    await ctx.waitFor(
      'the second rename drawn from line 7',
      () => {
        const current = view().current;
        return current !== null && current.line === 6 && current.shown.newText === 'sum';
      },
      { timeoutMs: 30_000 },
    );
    await sleep(800);
    const light = await ctx.screenshot('next-edit-light');
    if (light.available) ctx.note(`screenshot ${light.value}`);
    const pressedLight = await ctx.uiPress('Tab');
    if (!pressedLight.available) ctx.skip(pressedLight.reason);
    await ctx.waitFor('line 7 renamed after the theme switch', () => lineOf(document, 6).includes('if sum < 0'), {
      timeoutMs: 10_000,
    });
    ctx.note(`after theme switch line 7: ${lineOf(document, 6)}`);
  },
};
