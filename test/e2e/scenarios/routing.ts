// Issue 7 in a real VS Code: with the burst backend down (nothing listens on its port), a refactor is served by the
// long-context model, the log says why (`failover:refused`), and the status bar shows the long-context fallback.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { startSimulator } from '../../../src/sim/simulator';
import type { Scenario } from '../suite/scenario';
import { closedPort } from '../../unit/builders/ports';

const STATUS_ITEM_ID = 'latencyCopilot.speed';
const ORIGINAL_FILE = 'def total(values):\n    s = 0\n    for v in values:\n        s = s + v\n    return s\n';
const ANSWER = 'Here it is:\n\n```python\ndef total(values):\n    return sum(values)\n```\n';

function isCommandResult(value: unknown): value is { outcome: string; endpointId: string | null } {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'endpointId' in value;
}

/** Burst down -> the refactor fails over to the long-context model, and the status bar says so. */
export const routingFailoverScenario: Scenario = {
  name: 'routing: with the burst backend down, a refactor is served by the long-context model and the status bar says so',
  timeoutMs: 150_000,
  async run(ctx) {
    await ctx.activateExtension();
    const sim = await startSimulator({ tokensPerSec: 800, ttftMs: 30, completionFor: () => ANSWER });
    ctx.onCleanup(() => sim.close());
    ctx.onCleanup(() => vscode.commands.executeCommand('notifications.clearAll'));
    const port = await closedPort();
    // The status bar shows the first word of the label: make it say which model served.
    const longLabel = `LongContextE2E ${sim.port}`;
    await ctx.updateSettings({
      'latencyCopilot.backends.useSimulator': false,
      'latencyCopilot.backends.burst': [
        {
          baseUrl: `http://127.0.0.1:${port}/v1`,
          protocol: 'openai-chat',
          model: 'e2e-burst-down',
          label: 'BurstE2E down',
          fim: 'none',
        },
      ],
      'latencyCopilot.backends.longContext': [
        { baseUrl: `${sim.baseUrl}/v1`, protocol: 'openai-chat', model: 'e2e-long', label: longLabel, fim: 'none' },
      ],
    });
    await ctx.waitForLog(new RegExp(`Backends: [^\\n]*${longLabel}`), { timeoutMs: 30_000 });
    const editor = await ctx.openFile('total.py', ORIGINAL_FILE);
    editor.selection = new vscode.Selection(0, 0, 5, 0);
    const result: unknown = await vscode.commands.executeCommand('latencyCopilot.refactorSelection', {
      instruction: 'Simplify this function',
    });
    assert.ok(
      isCommandResult(result),
      `the refactor command should resolve with its outcome, got ${JSON.stringify(result)}`,
    );
    assert.equal(result.endpointId, 'longContext#0', 'the long-context model should have served the refactor');
    assert.ok(
      editor.document.getText().includes('return sum(values)'),
      `the refactored code should be in the editor:\n${editor.document.getText()}`,
    );
    await ctx.waitForLog(/Route #\d+ refactor -> LongContextE2E \d+ \(longContext#0\): failover:refused/, {
      timeoutMs: 10_000,
    });
    assert.ok(
      sim.requests.some((entry) => entry.path.includes('chat/completions')),
      'the long-context simulator should have received the request',
    );
    await vscode.commands.executeCommand('latencyCopilot.refactor.accept', editor.document.uri);

    // What a person sees: the status bar item names the long-context model with the fallback icon.
    const probe = await ctx.statusBarItem(STATUS_ITEM_ID);
    if (!probe.available) {
      ctx.note(
        `status bar not visible under this runner (${probe.reason}); the log and the command result were checked`,
      );
      return;
    }
    const selector = `[id="latency-copilot.latency-copilot.${STATUS_ITEM_ID}"]`;
    const item = await ctx.waitFor(
      'the status bar to name the long-context model with the fallback icon',
      async () => {
        const answer = await ctx.statusBarItem(STATUS_ITEM_ID);
        if (!answer.available || answer.value?.visible !== true || !answer.value.text.includes('LongContextE2E'))
          return undefined;
        const icon = await ctx.uiQuery(`${selector} .codicon-library`);
        return icon.available && icon.value.length > 0 ? answer.value : undefined;
      },
      { timeoutMs: 20_000 },
    );
    ctx.note(`status bar: "${item.text}" (${item.ariaLabel ?? ''})`);
    await ctx.screenshot('routing-long-context-fallback');
  },
};
