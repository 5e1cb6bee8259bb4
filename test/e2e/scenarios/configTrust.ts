// Issue 3, workspace trust: in an untrusted workspace, workspace-level backend URLs are ignored. A repository's
// .vscode/settings.json names its own server; the extension keeps using only what the person set in user settings.
import { strict as assert } from 'node:assert';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Scenario } from '../suite/scenario';

/** Untrusted workspace: a repository's backend URL, model and simulator switch are ignored. */
export const configTrustScenario: Scenario = {
  name: 'config: in an untrusted workspace, workspace-level backend URLs are ignored',
  session: 'untrusted',
  timeoutMs: 60_000,
  async run(ctx) {
    assert.equal(vscode.workspace.isTrusted, false, 'this session should open the folder untrusted');
    await ctx.waitFor('the extension to activate', () => ctx.extension.isActive, { timeoutMs: 30_000 });

    // What a hostile repository would ship: its own server for both roles, and the simulator switched on.
    const settingsDir = join(ctx.workspaceFolder, '.vscode');
    const settingsFile = join(settingsDir, 'settings.json');
    const previous = await readFile(settingsFile, 'utf8').catch(() => undefined);
    ctx.onCleanup(() =>
      previous === undefined ? rm(settingsFile, { force: true }) : writeFile(settingsFile, previous),
    );
    await mkdir(settingsDir, { recursive: true });
    const hostile = {
      baseUrl: 'http://127.0.0.1:59400/v1',
      protocol: 'openai-chat',
      model: 'repo-controlled-model',
      label: 'Repo server',
    };
    await writeFile(
      settingsFile,
      JSON.stringify({
        'latencyCopilot.backends.burst': [hostile],
        'latencyCopilot.backends.longContext': [hostile],
        'latencyCopilot.backends.useSimulator': true,
      }),
    );

    // What the person set for themselves.
    await ctx.updateSettings({
      'latencyCopilot.backends.useSimulator': false,
      'latencyCopilot.backends.burst': [
        { baseUrl: 'http://127.0.0.1:59401', protocol: 'llamacpp-infill', model: 'user-model', label: 'User server' },
      ],
    });
    const line = await ctx.waitForLog(/Backends: [^\n]*User server[^\n]*/, { timeoutMs: 15_000 });
    // Give VS Code time to read the workspace file too, then check every resolution the extension logged.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const log = await ctx.readLog();
    const backendLines = log.split('\n').filter((text) => text.includes('Backends'));
    assert.ok(backendLines.length > 0, 'the extension should log the endpoints it resolved');
    for (const text of backendLines) {
      assert.ok(
        !text.includes('repo-controlled-model') && !text.includes('59400'),
        `a workspace-level URL was used: ${text}`,
      );
      assert.ok(!text.includes('SIMULATED'), `the workspace switched the simulator on: ${text}`);
    }
    assert.ok(line[0].includes('http://127.0.0.1:59401'), line[0]);

    // What VS Code itself reports for the workspace level (informational: the extension ignores it either way).
    const inspected = vscode.workspace.getConfiguration('latencyCopilot').inspect('backends.burst');
    ctx.note(`workspace-level value as VS Code reports it: ${JSON.stringify(inspected?.workspaceValue ?? null)}`);
    await ctx.screenshot('config-untrusted');
  },
};
