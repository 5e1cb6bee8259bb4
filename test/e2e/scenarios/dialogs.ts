// Commands that now always ask the person (issue 14, item 12): the scenarios answer the real dialogs with key presses,
// the way a person would, instead of passing arguments that skip them.
import * as vscode from 'vscode';
import type { ScenarioContext } from '../suite/scenario';

const MODAL_SELECTOR = '.monaco-dialog-box';
const QUICK_INPUT_SELECTOR = '.quick-input-widget .quick-input-box input';

async function visible(ctx: ScenarioContext, selector: string): Promise<readonly string[] | false> {
  const answer = await ctx.uiQuery(selector);
  if (!answer.available) ctx.skip(answer.reason);
  const shown = answer.value.filter((element) => element.visible).map((element) => element.text);
  return shown.length > 0 ? shown : false;
}

/**
 * Runs a command that shows a modal question, checks the question's text, and answers it with Enter (the dialog's
 * first button, the confirming one, has the focus) or Escape. Returns the dialog's text.
 */
export async function runWithModalAnswer(
  ctx: ScenarioContext,
  command: () => Thenable<unknown>,
  answer: 'confirm' | 'cancel',
  expectText?: RegExp,
): Promise<string> {
  const running = command();
  const [text = ''] = await ctx.waitFor('the modal question', () => visible(ctx, MODAL_SELECTOR), { timeoutMs: 15_000 });
  if (expectText !== undefined && !expectText.test(text)) throw new Error(`the modal question says "${text}", expected ${String(expectText)}`);
  await ctx.uiPress(answer === 'confirm' ? 'Enter' : 'Escape');
  await running;
  await ctx.waitFor('the modal question to close', async () => (await visible(ctx, MODAL_SELECTOR)) === false, { timeoutMs: 10_000 });
  return text;
}

/** Clear API Key for `secretName`, confirmed in its modal question (which must name the server). */
export async function clearApiKeyConfirmed(ctx: ScenarioContext, secretName: string, origin: string): Promise<void> {
  const escaped = origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await runWithModalAnswer(ctx, () => vscode.commands.executeCommand('latencyCopilot.clearApiKey', secretName), 'confirm', new RegExp(escaped));
}

/**
 * Export Speed History with a pre-filled location: the save dialog (VS Code's own file dialog in a browser: a quick
 * input holding the path) still shows, and Enter accepts the suggested path.
 */
export async function exportSpeedHistoryThroughDialog(ctx: ScenarioContext, format: 'json' | 'csv', target: vscode.Uri): Promise<void> {
  const running = vscode.commands.executeCommand('latencyCopilot.exportSpeedHistory', format, target);
  await ctx.waitFor('the save dialog', () => visible(ctx, QUICK_INPUT_SELECTOR), { timeoutMs: 15_000 });
  // Let the dialog fill in the path before accepting it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await ctx.uiPress('Enter');
  await running;
}
