// What every runner that drives a real VS Code through code-server shares: the install (test/e2e/setup.sh), the
// processes it starts and how they are stopped, a throwaway profile, code-server on 127.0.0.1, headless chromium, and
// the workbench URL. Used by the end-to-end suite (runCodeServer.ts) and the keystroke-to-ghost-text benchmark
// (benchK2g.ts), so both run VS Code the same way. Nothing here prints: callers pass a `log` function.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { closedPort } from '../unit/builders/ports';

// dist/e2e/<runner>.js -> the project root.
export const projectRoot = resolve(__dirname, '..', '..');
export const setupScript = join(projectRoot, 'test', 'e2e', 'setup.sh');

// ---------------------------------------------------------------------------------------------------------------------
// Process groups this process started, so that every exit path stops them.

const startedGroups = new Set<number>();

/** Remembers a process group (a child spawned with `detached: true`) so that `killStartedGroups` and exit reach it. */
export function trackGroup(pid: number): void {
  startedGroups.add(pid);
}

export function untrackGroup(pid: number): void {
  startedGroups.delete(pid);
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs` if anything of the group is still alive. */
export async function stopGroup(pid: number, graceMs = 3_000): Promise<void> {
  killGroup(pid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (groupAlive(pid) && performance.now() < deadline) await sleep(100);
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  startedGroups.delete(pid);
}

/** For watchdogs: signals every group still tracked, synchronously. */
export function killStartedGroups(signal: NodeJS.Signals): void {
  for (const pid of startedGroups) killGroup(pid, signal);
}

// Last resort when the process exits by another path (an exception, a signal): synchronous kill of what is left.
process.on('exit', () => killStartedGroups('SIGKILL'));

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

// ---------------------------------------------------------------------------------------------------------------------
// Setup

/** Paths of what test/e2e/setup.sh installed (or found) in the cache. */
export interface Installed {
  readonly node24: string;
  readonly codeServerEntry: string;
  readonly chromium: string;
}

/**
 * Runs test/e2e/setup.sh (which honours LATENCY_COPILOT_CACHE and takes a lock) and returns the install paths. Its
 * progress goes to stderr; only the paths come on its stdout.
 */
export async function runSetup(): Promise<Installed> {
  // Its own process group, so that a timeout can stop npm/apt and their children too.
  const child = spawn('bash', [setupScript, '--print-env'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  if (child.pid) startedGroups.add(child.pid);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const setupLimitMs = 20 * 60_000;
  const timer = setTimeout(() => child.pid && killGroup(child.pid, 'SIGKILL'), setupLimitMs);
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', (exitCode) => resolveExit(exitCode)));
  clearTimeout(timer);
  if (child.pid) startedGroups.delete(child.pid);
  if (code !== 0) throw new Error(`test/e2e/setup.sh failed (exit ${code})`);
  const values = new Map(
    stdout
      .split('\n')
      .map((line) => line.split('='))
      .filter(
        (parts): parts is [string, string] => parts.length === 2 && parts[0] !== undefined && parts[1] !== undefined,
      ),
  );
  const node24 = values.get('NODE24');
  const codeServerEntry = values.get('CODE_SERVER_ENTRY');
  const chromiumPath = values.get('CHROMIUM');
  if (!node24 || !codeServerEntry || !chromiumPath)
    throw new Error(`setup.sh did not print the install paths:\n${stdout}`);
  return { node24, codeServerEntry, chromium: chromiumPath };
}

// ---------------------------------------------------------------------------------------------------------------------
// Network helpers

export function httpOk(url: string): Promise<boolean> {
  return new Promise((resolveOk) => {
    const request = get(url, (response) => {
      response.resume();
      resolveOk(response.statusCode === 200);
    });
    request.setTimeout(1_000, () => request.destroy());
    request.on('error', () => resolveOk(false));
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Profile

/** User settings of a test profile (see shared notes/vscode-host.md); `workspaceTrust` only for the untrusted session. */
export function baseUserSettings(workspaceTrust: boolean): Record<string, unknown> {
  return {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': workspaceTrust,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    // VS Code migrates `false` to "off" and rewrites settings.json at startup; write the current form.
    'extensions.autoUpdate': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    // No built-in AI provider competing with the extension for ghost text.
    'chat.disableAIFeatures': true,
    'editor.inlineSuggest.enabled': true,
    'git.enabled': false,
    'git.openRepositoryInParentFolders': 'never',
    'files.autoSave': 'off',
    'files.hotExit': 'off',
    'window.restoreWindows': 'none',
    // The secondary side bar (the chat view) would open empty; keep screenshots to the editor and the status bar.
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
}

/** The folders of one VS Code session's throwaway profile. Keep `root` short: VS Code puts unix sockets under `tmp`. */
export interface ProfileDirs {
  readonly root: string;
  readonly userData: string;
  readonly extensions: string;
  readonly xdgConfig: string;
  readonly xdgData: string;
  readonly xdgCache: string;
  readonly tmp: string;
  readonly browser: string;
  readonly workspace: string;
}

/** Creates the profile folders under `root` and writes the user settings. */
export function createProfile(root: string, settings: Record<string, unknown>): ProfileDirs {
  const dirs: ProfileDirs = {
    root,
    userData: join(root, 'data'),
    extensions: join(root, 'ext'),
    xdgConfig: join(root, 'xc'),
    xdgData: join(root, 'xd'),
    xdgCache: join(root, 'xk'),
    tmp: join(root, 't'),
    browser: join(root, 'b'),
    workspace: join(root, 'workspace'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  return dirs;
}

// ---------------------------------------------------------------------------------------------------------------------
// code-server

export interface CodeServerOptions {
  readonly installed: Installed;
  readonly dirs: ProfileDirs;
  /** Flags after the common ones (e.g. `--disable-workspace-trust`, `--vscode-option ...`). */
  readonly extraArgs: readonly string[];
  /** Variables added to the environment VS Code (and so the extension host) runs with. */
  readonly extraEnv: Readonly<Record<string, string>>;
  /** `performance.now()` time after which waiting for /healthz gives up (at most 60 s from now either way). */
  readonly deadlineMs: number;
}

/** A running code-server, in its own process group. */
export interface RunningCodeServer {
  /** `127.0.0.1:PORT` */
  readonly authority: string;
  readonly process: ChildProcess;
  readonly logPath: string;
  /** Resolves when code-server exits, with its exit code. */
  readonly exited: Promise<number | null>;
  /** Stops the whole process group (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** Starts code-server on a free 127.0.0.1 port with the profile's folders and waits until /healthz answers. */
export async function startCodeServer(options: CodeServerOptions): Promise<RunningCodeServer> {
  const { installed, dirs } = options;
  const port = await closedPort();
  const authority = `127.0.0.1:${port}`;
  const args = [
    installed.codeServerEntry,
    '--auth',
    'none',
    '--bind-addr',
    authority,
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...options.extraArgs,
  ];
  const logPath = join(dirs.root, 'code-server.log');
  const serverLog = createWriteStream(logPath);
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('VSCODE_') && !key.startsWith('ELECTRON_')),
    ),
    PATH: `${resolve(installed.node24, '..')}:${process.env.PATH ?? ''}`,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    ...options.extraEnv,
  };
  // detached: a new session and process group (setsid), so that stopping the group stops VS Code's children too.
  const child = spawn(installed.node24, args, {
    cwd: dirs.root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid) startedGroups.add(pid);
  child.stdout?.pipe(serverLog, { end: false });
  child.stderr?.pipe(serverLog, { end: false });
  let serverExit: number | null | undefined;
  const exited = new Promise<number | null>((resolveExit) =>
    child.on('exit', (code) => {
      serverExit = code;
      resolveExit(code);
    }),
  );
  const stop = async (): Promise<void> => {
    if (pid) await stopGroup(pid);
    serverLog.end();
  };

  const healthDeadline = Math.min(options.deadlineMs, performance.now() + 60_000);
  while (!(await httpOk(`http://${authority}/healthz`))) {
    if (serverExit !== undefined) {
      await stop();
      throw new Error(`code-server exited (code ${serverExit}) before answering; see ${logPath}`);
    }
    if (performance.now() > healthDeadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz in time; see ${logPath}`);
    }
    await sleep(200);
  }
  return { authority, process: child, logPath, exited, stop };
}

// ---------------------------------------------------------------------------------------------------------------------
// Browser

/** Headless Debian chromium through playwright-core, with its own profile folder and HOME. */
export function launchBrowser(installed: Installed, dirs: ProfileDirs): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dirs.browser, {
    executablePath: installed.chromium,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    env: { HOME: dirs.browser, TMPDIR: dirs.tmp, PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
}

/**
 * The workbench address: the folder to open and the payload VS Code reads from the URL (with
 * `--vscode-option enable-smoke-test-driver`: `extensionDevelopmentPath`, `extensionTestsPath` as `vscode-remote://` URIs).
 */
export function workbenchUrl(
  authority: string,
  folder: string,
  payload: readonly (readonly [string, string])[],
): string {
  return `http://${authority}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** A path of this machine as the `vscode-remote://` URI the workbench payload needs. */
export function remoteUri(authority: string, path: string): string {
  return `vscode-remote://${authority}${path}`;
}
