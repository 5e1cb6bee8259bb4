// The helpers scenarios work with (see scenario.ts for what each does). One context per scenario; `dispose()` undoes
// what the scenario changed: settings back to their previous values, editors reverted and closed, cleanups run.
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { BridgeRequest, UiElement } from '../bridgeProtocol';
import type { ScenarioContext, StatusBarItemView, UiAnswer } from './scenario';
import { ScenarioSkipped, statusBarItemId } from './scenario';
import { callBridge } from './uiBridgeClient';

/** The extension under test, as package.json names it. */
export const extensionId = 'latency-copilot.latency-copilot';
/** The name of its LogOutputChannel (the log file is `<name>.log`). */
export const logChannelName = 'Latency Copilot';

/** Where the run's files are; filled from the runner's environment variables. */
export interface RunEnvironment {
  readonly workspaceFolder: string;
  readonly artifactsDir: string;
  readonly logsDir: string | undefined;
  readonly bridgeUrl: string | undefined;
  readonly runner: string;
  readonly print: (line: string) => void;
}

type SettingTarget = 'user' | 'workspace';

interface SavedSetting {
  readonly section: string;
  readonly target: SettingTarget;
  readonly previous: unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function configurationTarget(target: SettingTarget): vscode.ConfigurationTarget {
  return target === 'user' ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
}

/** Finds `<logsDir>/**\/<extensionId>/<channel>.log`, newest first, without following too deep. */
async function findLogFile(root: string, depth = 0): Promise<string | undefined> {
  if (depth > 5) return undefined;
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return undefined;
  }
  if (entries.includes(extensionId)) {
    const candidate = join(root, extensionId, `${logChannelName}.log`);
    if (await exists(candidate)) return candidate;
  }
  // Newest session folders sort last (their names are timestamps); look there first.
  for (const entry of entries.sort().reverse()) {
    const full = join(root, entry);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isDirectory() || entry === extensionId) continue;
    const found = await findLogFile(full, depth + 1);
    if (found) return found;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Builds a scenario's context; call `dispose()` after the scenario, pass or fail. */
export function createScenarioContext(
  name: string,
  environment: RunEnvironment,
): ScenarioContext & { dispose(): Promise<void> } {
  const extension = vscode.extensions.getExtension(extensionId);
  if (!extension) throw new Error(`the extension ${extensionId} is not loaded in this VS Code`);
  const savedSettings: SavedSetting[] = [];
  const cleanups: Array<() => unknown> = [];
  let cachedLogFile: string | undefined;
  // A scenario over its time limit cannot be stopped from outside; this makes its waits end instead of polling on.
  const ended = new AbortController();

  const unavailable = { available: false, reason: `no UI bridge under the ${environment.runner} runner` } as const;

  async function bridge(request: BridgeRequest): Promise<UiAnswer<Awaited<ReturnType<typeof callBridge>>>> {
    if (!environment.bridgeUrl) return unavailable;
    const response = await callBridge(environment.bridgeUrl, request);
    if (!response.ok) throw new Error(`UI bridge: ${response.error}`);
    return { available: true, value: response };
  }

  async function query(selector: string, inWebviews: boolean): Promise<UiAnswer<readonly UiElement[]>> {
    const answer = await bridge({ kind: 'query', selector, inWebviews });
    if (!answer.available) return answer;
    return answer.value.ok && answer.value.kind === 'query'
      ? { available: true, value: answer.value.elements }
      : { available: false, reason: 'the bridge answered a query with something else' };
  }

  async function action(request: BridgeRequest): Promise<UiAnswer<true>> {
    const answer = await bridge(request);
    return answer.available ? { available: true, value: true } : answer;
  }

  const context: ScenarioContext & { dispose(): Promise<void> } = {
    name,
    workspaceFolder: environment.workspaceFolder,
    artifactsDir: environment.artifactsDir,
    runner: environment.runner,
    signal: ended.signal,
    extension,

    async activateExtension() {
      return extension.isActive ? extension.exports : extension.activate();
    },

    async openFile(relativePath, content) {
      const path = join(environment.workspaceFolder, relativePath);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content, 'utf8');
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
      const editor = await vscode.window.showTextDocument(document, { preview: false });
      const end = document.lineAt(document.lineCount - 1).range.end;
      editor.selection = new vscode.Selection(end, end);
      return editor;
    },

    async type(text, options) {
      const delayMs = options?.delayMs ?? 20;
      for (const character of text) {
        if (ended.signal.aborted) throw new Error('the scenario ended while typing');
        await vscode.commands.executeCommand('type', { text: character });
        if (delayMs > 0) await sleep(delayMs);
      }
    },

    async saveAndRead() {
      const editor = vscode.window.activeTextEditor;
      if (!editor) throw new Error('saveAndRead: no active editor');
      const saved = await editor.document.save();
      if (!saved) throw new Error(`saveAndRead: VS Code did not save ${editor.document.uri.fsPath}`);
      return readFile(editor.document.uri.fsPath, 'utf8');
    },

    async waitFor(description, probe, options) {
      const timeoutMs = options?.timeoutMs ?? 10_000;
      const intervalMs = options?.intervalMs ?? 50;
      const deadline = performance.now() + timeoutMs;
      let lastError: unknown;
      for (;;) {
        if (ended.signal.aborted) throw new Error(`the scenario ended while waiting for ${description}`);
        try {
          const value = await probe();
          if (value !== undefined && value !== false) return value;
        } catch (error) {
          lastError = error;
        }
        if (performance.now() >= deadline) {
          const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
        }
        await sleep(intervalMs);
      }
    },

    async updateSettings(values, target = 'user') {
      for (const [key, value] of Object.entries(values)) {
        const lastDot = key.lastIndexOf('.');
        const section = lastDot > 0 ? key.slice(0, lastDot) : '';
        const leaf = lastDot > 0 ? key.slice(lastDot + 1) : key;
        const configuration = vscode.workspace.getConfiguration(section || undefined);
        const inspected = configuration.inspect(leaf);
        const previous = target === 'user' ? inspected?.globalValue : inspected?.workspaceValue;
        // Only the first change of a key is remembered, so that restoring goes back to what was there before the scenario.
        if (!savedSettings.some((saved) => saved.section === key && saved.target === target)) {
          savedSettings.push({ section: key, target, previous });
        }
        await configuration.update(leaf, value, configurationTarget(target));
      }
    },

    async logFile() {
      if (cachedLogFile) return cachedLogFile;
      if (!environment.logsDir) return undefined;
      cachedLogFile = await findLogFile(environment.logsDir);
      return cachedLogFile;
    },

    async readLog() {
      const file = await context.logFile();
      return file ? readFile(file, 'utf8').catch(() => '') : '';
    },

    async waitForLog(pattern, options) {
      return context.waitFor(
        `the extension log to match ${String(pattern)}`,
        async () => (await context.readLog()).match(pattern) ?? undefined,
        {
          timeoutMs: options?.timeoutMs ?? 15_000,
          intervalMs: options?.intervalMs ?? 100,
        },
      );
    },

    note(message) {
      environment.print(`# ${message}`);
    },

    onCleanup(cleanup) {
      cleanups.push(cleanup);
    },

    skip(reason) {
      throw new ScenarioSkipped(reason);
    },

    async screenshot(screenshotName) {
      const answer = await bridge({ kind: 'screenshot', name: screenshotName });
      if (!answer.available) return answer;
      return answer.value.ok && answer.value.kind === 'screenshot'
        ? { available: true, value: answer.value.path }
        : { available: false, reason: 'the bridge answered a screenshot with something else' };
    },

    uiQuery(selector, options) {
      return query(selector, options?.inWebviews ?? false);
    },

    async statusBarItem(itemId) {
      const domId = statusBarItemId(extensionId, itemId);
      const answer = await query(`.statusbar-item[id="${domId.replace(/["\\]/g, '\\$&')}"]`, false);
      if (!answer.available) return answer;
      const element = answer.value[0];
      const view: StatusBarItemView | undefined = element
        ? { text: element.text, ariaLabel: element.ariaLabel, visible: element.visible }
        : undefined;
      return { available: true, value: view };
    },

    async ghostText() {
      const answer = await query(
        '.monaco-editor .view-lines .ghost-text-decoration, .monaco-editor .ghost-text',
        false,
      );
      if (!answer.available) return answer;
      const shown = answer.value.filter((element) => element.visible);
      return {
        available: true,
        value: { visible: shown.length > 0, text: shown.map((element) => element.text).join('\n') },
      };
    },

    uiPress(key) {
      return action({ kind: 'press', key });
    },

    uiTypeKeys(text, options) {
      return action({ kind: 'typeKeys', text, delayMs: options?.delayMs ?? 30 });
    },

    uiClick(selector) {
      return action({ kind: 'click', selector });
    },

    async dispose() {
      ended.abort();
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          environment.print(`# cleanup of ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      for (const saved of savedSettings.reverse()) {
        const lastDot = saved.section.lastIndexOf('.');
        const configuration = vscode.workspace.getConfiguration(
          lastDot > 0 ? saved.section.slice(0, lastDot) : undefined,
        );
        await configuration.update(saved.section.slice(lastDot + 1), saved.previous, configurationTarget(saved.target));
      }
      await closeAllEditorsWithoutPrompts();
    },
  };
  return context;
}

/** Reverts unsaved changes and closes every editor: a dirty editor would otherwise ask "Save?" and hang headless. */
export async function closeAllEditorsWithoutPrompts(): Promise<void> {
  for (const document of vscode.workspace.textDocuments) {
    if (!document.isDirty || document.isClosed) continue;
    await vscode.window.showTextDocument(document, { preview: false });
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
  const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
  if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
}
