// `npm start`: opens VS Code with the extension, against the built-in simulated backends when no real backend is set,
// on the demo workspace (demo/, copied into the cache) with example.ts open and the cursor where typing shows ghost text.
// - With a desktop VS Code (VSCODE_EXECUTABLE, or `code` on PATH): runs it with --extensionDevelopmentPath and --goto.
// - Without one (these machines): installs code-server once into ~/.cache/latency-copilot/ (test/e2e/setup.sh), copies
//   the built extension into a demo profile, starts a real VS Code on http://127.0.0.1:PORT/ (PORT env, default 8765),
//   waits until it answers and prints the address that opens example.ts; Ctrl+C stops it and everything it started.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import {
  codeServerDemoUrl,
  DEMO_FILE,
  DEMO_USER_SETTINGS,
  settingsWithDefaults,
  syncDemoWorkspace,
  typingCursor,
} from './startDemo';
import type { Cursor } from './startDemo';
import { stringAt, tryParseJson } from '../core/json';

const projectRoot = resolve(__dirname, '..', '..');
const cacheDir = process.env['LATENCY_COPILOT_CACHE'] ?? join(homedir(), '.cache', 'latency-copilot');

function say(line: string): void {
  process.stdout.write(`[start] ${line}\n`);
}

function findDesktopVsCode(): string | null {
  const explicit = process.env['VSCODE_EXECUTABLE'];
  if (explicit && existsSync(explicit)) return explicit;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'code');
    // code-server installs no `code`; a `code` here is a desktop VS Code's launcher.
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

function build(): void {
  say('building the extension (esbuild)');
  const result = spawnSync(process.execPath, [join(projectRoot, 'esbuild.mjs'), '--quiet'], {
    cwd: projectRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('the build failed; see the output above');
}

/** The demo workspace in the cache, the file that opens, and where the cursor goes in it. */
interface Demo {
  readonly folder: string;
  readonly file: string;
  readonly cursor: Cursor;
}

function demoWorkspace(): Demo {
  const folder = join(cacheDir, 'demo-workspace');
  const report = syncDemoWorkspace(join(projectRoot, 'demo'), folder, join(cacheDir, 'demo-workspace.shipped.json'));
  if (report.added.length > 0) say(`demo workspace ${folder}: copied ${report.added.join(', ')}`);
  if (report.updated.length > 0) say(`demo workspace: updated ${report.updated.join(', ')} (you had not edited it)`);
  if (report.kept.length > 0)
    say(
      `demo workspace: kept your edits of ${report.kept.join(', ')} (delete a file to get the shipped one from demo/)`,
    );
  const file = join(folder, DEMO_FILE);
  return { folder, file, cursor: typingCursor(readFileSync(file, 'utf8')) };
}

/** Resolves once code-server answers /healthz (about 1 s after it starts), or false after `timeoutMs`. */
function waitUntilAnswering(port: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((done) => {
    const attempt = (): void => {
      const request = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2_000 }, (response) => {
        response.resume();
        done(true);
      });
      const retry = (): void => {
        request.destroy();
        if (performance.now() >= deadline) done(false);
        else setTimeout(attempt, 250);
      };
      request.on('error', retry);
      request.on('timeout', retry);
    };
    attempt();
  });
}

function readEnvLines(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

function startCodeServer(): void {
  say('no desktop VS Code found: using a real VS Code served by code-server (installed once into the cache)');
  const setup = spawnSync('bash', [join(projectRoot, 'test', 'e2e', 'setup.sh'), '--print-env'], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (setup.status !== 0) throw new Error('installing code-server failed; see the output above');
  const env = readEnvLines(setup.stdout);
  const node24 = env['NODE24'];
  const codeServer = env['CODE_SERVER_ENTRY'];
  if (!node24 || !codeServer) throw new Error('test/e2e/setup.sh did not report NODE24 and CODE_SERVER_ENTRY');

  const profile = join(cacheDir, 'demo-profile');
  const extensionsDir = join(profile, 'extensions');
  const userSettingsDir = join(profile, 'user-data', 'User');
  mkdirSync(userSettingsDir, { recursive: true });
  // Checked, not assumed: a hand-edited package.json without these fields would otherwise name a folder "undefined".
  const manifest = tryParseJson(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const [publisher, name, version] = ['publisher', 'name', 'version'].map((key) => stringAt(manifest, key));
  if (publisher === undefined || name === undefined || version === undefined) {
    throw new Error('package.json needs "publisher", "name" and "version" to install the extension for the demo.');
  }
  const installed = join(extensionsDir, `${publisher}.${name}-${version}`);
  rmSync(installed, { recursive: true, force: true });
  mkdirSync(installed, { recursive: true });
  for (const part of ['package.json', 'README.md', 'dist', 'media']) {
    if (existsSync(join(projectRoot, part)))
      cpSync(join(projectRoot, part), join(installed, part), { recursive: true });
  }
  // Written when missing; an existing profile gets the keys it lacks (new ones from a newer `npm start`, or one deleted:
  // change a value rather than delete it). The person's values are never changed.
  const settingsFile = join(userSettingsDir, 'settings.json');
  const settings = settingsWithDefaults(
    existsSync(settingsFile) ? readFileSync(settingsFile, 'utf8') : null,
    DEMO_USER_SETTINGS,
  );
  if (settings !== null) writeFileSync(settingsFile, settings);
  // Backend settings are machine-scoped, and code-server (a remote window) reads those from Machine/settings.json.
  const machineSettingsDir = join(profile, 'user-data', 'Machine');
  const machineSettingsFile = join(machineSettingsDir, 'settings.json');
  if (!existsSync(machineSettingsFile)) {
    mkdirSync(machineSettingsDir, { recursive: true });
    writeFileSync(machineSettingsFile, JSON.stringify({ 'latencyCopilot.backends.useSimulator': true }, null, 2));
  }
  const port = process.env['PORT'] ?? '8765';
  const demo = demoWorkspace();
  const child = spawn(
    node24,
    [
      codeServer,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--user-data-dir',
      join(profile, 'user-data'),
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      demo.folder,
    ],
    {
      detached: true,
      stdio: 'inherit',
      env: {
        ...process.env,
        XDG_CONFIG_HOME: join(profile, 'xdg-config'),
        XDG_DATA_HOME: join(profile, 'xdg-data'),
        XDG_CACHE_HOME: join(profile, 'xdg-cache'),
      },
    },
  );
  const stop = (): void => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  };
  process.on('SIGINT', () => {
    stop();
    process.exit(0);
  });
  process.on('SIGTERM', () => {
    stop();
    process.exit(0);
  });
  child.on('exit', (code) => process.exit(code ?? 0));
  const authority = `127.0.0.1:${port}`;
  void waitUntilAnswering(port, 60_000).then((answering) => {
    if (!answering)
      say(`code-server has not answered on ${authority} for 60 s; the address below may need a moment more`);
    say(
      'VS Code with Latency Copilot (Ctrl+C stops it); this address opens the demo with example.ts ready to type in:',
    );
    // The line starts with "open http://127.0.0.1:PORT/": the README and tests look for it there. Not `say()`: its prefix
    // would break that, and the line is meant to be copied.
    process.stdout.write(
      `open ${codeServerDemoUrl({ authority, folder: demo.folder, file: demo.file, cursor: demo.cursor })}\n`,
    );
  });
}

function main(): void {
  build();
  const desktop = findDesktopVsCode();
  if (desktop) {
    say(`opening ${desktop} with the extension under development`);
    const demo = demoWorkspace();
    const goto = `${demo.file}:${demo.cursor.line}:${demo.cursor.column}`;
    const child = spawn(desktop, ['--extensionDevelopmentPath', projectRoot, demo.folder, '--goto', goto], {
      stdio: 'inherit',
    });
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  startCodeServer();
}

try {
  main();
} catch (error) {
  process.stderr.write(`[start] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
