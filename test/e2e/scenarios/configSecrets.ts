// Issue 3, "Set API key": the command stores the key in SecretStorage, and nothing key-like ever appears in
// settings.json or the log. Also: a bad endpoint entry gives one warning naming the entry; with nothing configured the
// extension offers the simulated backends and says plainly that they are simulated.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import * as vscode from 'vscode';
import { apiKeySecretName } from '../../../src/core/config/backendConfig';
import type { Scenario, ScenarioContext } from '../suite/scenario';
import { clearApiKeyUnconfirmed } from './dialogs';

// A loopback origin no server listens on: configuring an endpoint contacts nothing, and the key is stored per origin.
const FAKE_ORIGIN = 'http://127.0.0.1:59321';
const SECRET_NAME = apiKeySecretName(FAKE_ORIGIN);

/** The profile's user settings.json: `<user-data-dir>/User/settings.json`, found from the log path `<user-data-dir>/logs/...`. */
async function userSettingsFile(ctx: ScenarioContext): Promise<string | undefined> {
  const log = await ctx.logFile();
  if (log === undefined) return undefined;
  const marker = `${sep}logs${sep}`;
  const at = log.lastIndexOf(marker);
  return at < 0 ? undefined : join(log.slice(0, at), 'User', 'settings.json');
}

/** Every value of every `latencyCopilot.*` setting at every level, as one JSON text. */
function allExtensionSettingValues(): string {
  const configuration = vscode.workspace.getConfiguration('latencyCopilot');
  const keys = ['backends.burst', 'backends.longContext', 'backends.useSimulator', 'backends.offerSimulator'];
  return JSON.stringify(keys.map((key) => configuration.inspect(key)));
}

async function visibleQuickInput(ctx: ScenarioContext, selector: string): Promise<boolean> {
  const answer = await ctx.uiQuery(selector);
  if (!answer.available) ctx.skip(answer.reason);
  return answer.value.some((element) => element.visible);
}

/** Set API Key: typed into the password box, stored in SecretStorage, never in settings or the log. */
export const configSecretsScenario: Scenario = {
  name: 'config: Set API Key stores the key in SecretStorage, never in settings or the log',
  timeoutMs: 60_000,
  async run(ctx) {
    await ctx.activateExtension();
    // Shaped like a real provider key, so that the redaction patterns would also catch it if it leaked by another path.
    const key = `sk-e2e-${randomBytes(12).toString('hex')}`;
    await ctx.updateSettings({
      'latencyCopilot.backends.useSimulator': false,
      'latencyCopilot.backends.burst': [
        { baseUrl: `${FAKE_ORIGIN}/v1`, protocol: 'openai-chat', model: 'e2e-key-model', label: 'E2E key endpoint' },
      ],
    });
    await ctx.waitForLog(/Backends: [^\n]*E2E key endpoint \[openai-chat http:\/\/127\.0\.0\.1:59321\/v1, fim auto\]/, {
      timeoutMs: 15_000,
    });

    // The command waits on its password box: start it, answer it with real key presses, then await it.
    const command = vscode.commands.executeCommand('latencyCopilot.setApiKey', SECRET_NAME);
    await ctx.waitFor('the password box', () => visibleQuickInput(ctx, '.quick-input-widget input[type="password"]'));
    await ctx.uiTypeKeys(key);
    await ctx.screenshot('config-set-api-key');
    await ctx.uiPress('Enter');
    await command;

    // Stored: the extension read it back from SecretStorage and now sends it to that endpoint ("key set").
    await ctx.waitForLog(/Stored an API key for http:\/\/127\.0\.0\.1:59321 in SecretStorage/);
    await ctx.waitForLog(/E2E key endpoint \[[^\]]*, key set\]/, { timeoutMs: 10_000 });

    // Never in settings: not in any latencyCopilot value at any level, not in the settings files on disk.
    assert.ok(!allExtensionSettingValues().includes(key), 'the key is in a setting value');
    const settingsFile = await userSettingsFile(ctx);
    assert.ok(settingsFile !== undefined, 'the user settings.json should be found next to the logs');
    // Machine-scoped settings go to the remote machine's settings under code-server (`<user-data>/Machine/settings.json`).
    const settingsFiles = [settingsFile, join(dirname(dirname(settingsFile)), 'Machine', 'settings.json')];
    const settingsTexts = await Promise.all(settingsFiles.map((file) => readFile(file, 'utf8').catch(() => '')));
    assert.ok(
      settingsTexts.some((text) => text.includes('e2e-key-model')),
      `expected the endpoint in ${settingsFiles.join(' or ')}`,
    );
    for (const [index, text] of settingsTexts.entries()) {
      assert.ok(!text.includes(key) && !text.includes('sk-e2e-'), `the key is in ${settingsFiles[index] ?? ''}`);
    }
    const workspaceSettings = await readFile(join(ctx.workspaceFolder, '.vscode', 'settings.json'), 'utf8').catch(
      () => '',
    );
    assert.ok(!workspaceSettings.includes(key), 'the key is in the workspace settings');
    // Nor in the profile's other state files (globalState lives in state.vscdb next to settings.json's folder).
    const globalStateDb = await readFile(join(dirname(settingsFile), 'globalStorage', 'state.vscdb')).catch(() =>
      Buffer.alloc(0),
    );
    assert.ok(!globalStateDb.includes(Buffer.from(key)), 'the key is in globalState');

    // Never in the log, not even partly.
    const log = await ctx.readLog();
    assert.ok(!log.includes(key) && !log.includes(key.slice(7)), 'the key is in the log');

    // Clear: another extension running the command with the server's name must not delete the key unasked. The modal
    // question is never confirmed in this suite (see clearApiKeyUnconfirmed), so the key must still be there after it.
    const asked = await clearApiKeyUnconfirmed(ctx, SECRET_NAME, FAKE_ORIGIN);
    ctx.note(
      `key stored; Clear API Key asked "${asked}" and, unconfirmed, kept the key; settings file checked: ${settingsFile}`,
    );
  },
};

/** A malformed entry: one warning naming the entry and what to fix; the good entry is still used. */
export const configBadEntryScenario: Scenario = {
  name: 'config: a malformed endpoint gives one actionable warning, the good one is still used',
  timeoutMs: 45_000,
  async run(ctx) {
    await ctx.activateExtension();
    await ctx.updateSettings({
      'latencyCopilot.backends.useSimulator': false,
      'latencyCopilot.backends.burst': [
        { baseUrl: 'htp//127.0.0.1:8080', protocol: 'openai-chat', model: 'broken-entry' },
        {
          baseUrl: 'http://127.0.0.1:59322',
          protocol: 'llamacpp-infill',
          model: 'good-entry',
          label: 'E2E good endpoint',
        },
      ],
    });
    await ctx.waitForLog(/Backends: [^\n]*burst#1 E2E good endpoint/, { timeoutMs: 15_000 });
    await ctx.waitForLog(/latencyCopilot\.backends\.burst\[0\]: "htp\/\/127\.0\.0\.1:8080" is not a URL/);
    // Headless, the page never has focus and VS Code holds toasts back until it does: read the notification center.
    await vscode.commands.executeCommand('notifications.showList');
    let seen = '';
    const toast = await ctx
      .waitFor('the warning notification', async () => {
        const answer = await ctx.uiQuery('.notification-toast, .notifications-list-container .monaco-list-row');
        if (!answer.available) return ctx.skip(answer.reason);
        seen = answer.value
          .map((element) => `${element.visible ? 'visible' : 'hidden'}: ${element.text.slice(0, 120)}`)
          .join(' | ');
        return answer.value.find((element) => element.text.includes('latencyCopilot.backends.burst[0]'));
      })
      .catch((error: unknown) => {
        throw new Error(`${String(error)}; toasts seen: ${seen || 'none'}`);
      });
    assert.ok(toast.text.includes('skipped until it is fixed'), toast.text);
    assert.ok(toast.text.includes('Open Settings'), `the warning should offer to open settings: ${toast.text}`);
    await ctx.screenshot('config-bad-entry');
    await vscode.commands.executeCommand('notifications.hideList');
  },
};

/** Nothing configured: the first-run notification offers the simulated backends and says they are simulated. */
export const configSimulatorOfferScenario: Scenario = {
  name: 'config: with nothing configured, the simulated backends are offered plainly',
  timeoutMs: 30_000,
  async run(ctx) {
    await ctx.activateExtension();
    const burst = vscode.workspace.getConfiguration('latencyCopilot').inspect('backends.burst');
    if (burst?.globalValue !== undefined) ctx.skip('a backend is configured in this profile, so no offer is expected');
    // The offer may have moved from the toasts to the notification center by now: open the list and look there too.
    await vscode.commands.executeCommand('notifications.showList');
    const offer = await ctx.waitFor('the simulator offer', async () => {
      const answer = await ctx.uiQuery('.notification-toast, .notifications-list-container .monaco-list-row');
      if (!answer.available) return ctx.skip(answer.reason);
      return answer.value.find((element) => element.text.includes('simulated backends'));
    });
    assert.ok(offer.text.includes('no real model'), offer.text);
    assert.ok(offer.text.includes('Use simulated backends'), offer.text);
    await ctx.screenshot('config-simulator-offer');
    await vscode.commands.executeCommand('notifications.hideList');
  },
};

/** The simulated backends: turned on by the setting, served on loopback, labelled as simulated, stopped when turned off. */
export const configSimulatorScenario: Scenario = {
  name: 'config: the built-in simulated backends start on loopback, say they are simulated, and stop',
  timeoutMs: 45_000,
  async run(ctx) {
    await ctx.activateExtension();
    // The rate first, so the servers start with it.
    await ctx.updateSettings({ 'latencyCopilot.simulator.tokensPerSecond': 1200 });
    await ctx.updateSettings({ 'latencyCopilot.backends.useSimulator': true });
    const started = await ctx.waitForLog(
      /Simulated backends started in \d+ ms: burst (http:\/\/127\.0\.0\.1:\d+) \(1200 tok\/s/,
      { timeoutMs: 20_000 },
    );
    const line = await ctx.waitForLog(/Backends \(SIMULATED\): burst#0 Simulated burst \(no real model\)[^\n]*/);
    assert.ok(line[0].includes('longContext#0 Simulated long-context (no real model)'), line[0]);
    // It really serves: the burst server answers the OpenAI model list on loopback.
    const baseUrl = started[1] ?? '';
    const response = await fetch(`${baseUrl}/v1/models`);
    assert.equal(response.status, 200, `GET ${baseUrl}/v1/models`);
    const models: unknown = await response.json();
    assert.ok(JSON.stringify(models).includes('sim-burst'), JSON.stringify(models));

    await ctx.updateSettings({ 'latencyCopilot.backends.useSimulator': false });
    await ctx.waitForLog(/Simulated backends stopped\./);
    await assert.rejects(fetch(`${baseUrl}/v1/models`), 'the simulator should be closed');
  },
};

/** The getting-started walkthrough opens and shows its steps. */
export const configWalkthroughScenario: Scenario = {
  name: 'config: the getting-started walkthrough shows how to pick a backend, keep keys safe, or try the simulator',
  timeoutMs: 30_000,
  async run(ctx) {
    await ctx.activateExtension();
    await vscode.commands.executeCommand(
      'workbench.action.openWalkthrough',
      `${ctx.extension.id}#gettingStarted`,
      false,
    );
    const steps = await ctx.waitFor('the walkthrough steps', async () => {
      const answer = await ctx.uiQuery('.gettingStartedContainer .getting-started-step');
      if (!answer.available) return ctx.skip(answer.reason);
      const text = answer.value.map((element) => element.text).join(' | ');
      return text.includes('Pick a backend') && text.includes('simulator') ? text : undefined;
    });
    assert.ok(steps.includes('Keep your key in the keychain'), steps);
    await ctx.screenshot('config-walkthrough');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  },
};

/** Configure Backends without JSON: role -> preset -> model -> key, saved to user settings and SecretStorage. */
export const configConfigureBackendsScenario: Scenario = {
  name: 'config: Configure Backends adds a preset endpoint through quick picks and a password box',
  timeoutMs: 60_000,
  async run(ctx) {
    await ctx.activateExtension();
    // Registers the restore point: the list goes back to empty after the scenario.
    await ctx.updateSettings({ 'latencyCopilot.backends.useSimulator': false, 'latencyCopilot.backends.burst': [] });
    const key = `gsk_e2e${randomBytes(12).toString('hex')}`;

    const answer = async (what: string, keys: string): Promise<void> => {
      await ctx.waitFor(what, () => visibleQuickInput(ctx, '.quick-input-widget .quick-input-box input'));
      // Wait for the step's own content: the input is reused from one step to the next.
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (keys !== '') await ctx.uiTypeKeys(keys);
      await ctx.uiPress('Enter');
    };
    const command = vscode.commands.executeCommand('latencyCopilot.configureBackends');
    await answer('the Configure Backends menu', 'Add an endpoint');
    await answer('the role pick', 'Burst');
    await answer('the provider pick', 'Groq');
    await answer('the model box (preset default filled in)', '');
    await ctx.waitFor('the password box', () => visibleQuickInput(ctx, '.quick-input-widget input[type="password"]'));
    await ctx.uiTypeKeys(key);
    await ctx.screenshot('config-configure-backends-key');
    await ctx.uiPress('Enter');
    await command;

    const saved = vscode.workspace.getConfiguration('latencyCopilot').inspect('backends.burst')?.globalValue;
    assert.deepEqual(saved, [{ preset: 'groq' }], `user settings hold only the preset: ${JSON.stringify(saved)}`);
    await ctx.waitForLog(
      /Backends: burst#0 Groq llama-3\.1-8b-instant \[openai-chat https:\/\/api\.groq\.com\/openai\/v1, fim chat, key set\]/,
      {
        timeoutMs: 10_000,
      },
    );
    assert.ok(!JSON.stringify(saved).includes(key));
    assert.ok(!(await ctx.readLog()).includes(key), 'the key is in the log');
  },
};
