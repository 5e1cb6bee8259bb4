// Commands that always ask the person: the scenarios answer the real dialogs with key presses,
// the way a person would, instead of passing arguments that skip them.
import * as vscode from 'vscode';
import type { ScenarioContext } from '../suite/scenario';

const QUICK_INPUT_SELECTOR = '.quick-input-widget .quick-input-box input';

async function visible(ctx: ScenarioContext, selector: string): Promise<readonly string[] | false> {
  const answer = await ctx.uiQuery(selector);
  if (!answer.available) ctx.skip(answer.reason);
  const shown = answer.value.filter((element) => element.visible).map((element) => element.text);
  return shown.length > 0 ? shown : false;
}

/**
 * Clear API Key for `secretName`, which always asks a modal question first. VS Code refuses to show modal dialogs while
 * extension tests run: its DialogService fails the call with "refused to show dialog in tests. Contents: <question>".
 * That failure is the proof here that the question was asked, naming the server; then the key must NOT be deleted.
 * The confirming path is covered by the flow's unit tests (test/unit/core/commands/commandArguments.test.ts).
 */
export async function clearApiKeyUnconfirmed(
  ctx: ScenarioContext,
  secretName: string,
  origin: string,
): Promise<string> {
  let asked = '';
  try {
    await vscode.commands.executeCommand('latencyCopilot.clearApiKey', secretName);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!message.includes('refused to show dialog')) throw error;
    asked = message.slice(message.indexOf('Contents:') + 'Contents:'.length).trim();
  }
  if (asked !== '' && !asked.includes(origin))
    throw new Error(`the modal question does not name ${origin}: "${asked}"`);
  // Give a (wrong) deletion time to reach the log before looking.
  await new Promise((resolve) => setTimeout(resolve, 500));
  if ((await ctx.readLog()).includes(`Cleared the API key for ${origin}`))
    throw new Error(`Clear API Key deleted the key of ${origin} without a confirmed question`);
  return asked;
}

/**
 * Export Speed History with a pre-filled location: the save dialog (VS Code's own file dialog in a browser: a quick
 * input holding the path) still shows, and Enter accepts the suggested path.
 */
export async function exportSpeedHistoryThroughDialog(
  ctx: ScenarioContext,
  format: 'json' | 'csv',
  target: vscode.Uri,
): Promise<void> {
  const running = vscode.commands.executeCommand('latencyCopilot.exportSpeedHistory', format, target);
  await ctx.waitFor('the save dialog', () => visible(ctx, QUICK_INPUT_SELECTOR), { timeoutMs: 15_000 });
  // Let the dialog fill in the path before accepting it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await ctx.uiPress('Enter');
  await running;
}

/**
 * Starts a repository command with a request argument and sends the question box it pre-fills with Enter, as the
 * person would: an argument never skips the question. `done` settles when the task ends (wrapped: an async function
 * returning the thenable itself would wait for it, and a refactor waits for the person's Apply).
 */
export async function startRepoCommandWithRequest(
  ctx: ScenarioContext,
  command: string,
  request: string,
): Promise<{ readonly done: Thenable<unknown> }> {
  const done = vscode.commands.executeCommand(command, { request });
  await ctx.waitFor('the question box', () => visible(ctx, QUICK_INPUT_SELECTOR), { timeoutMs: 15_000 });
  // Let the box take its pre-filled value before sending it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await ctx.uiPress('Enter');
  return { done };
}
