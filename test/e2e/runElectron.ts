// Runner two: the same suite through @vscode/test-electron, where a desktop VS Code exists (`VSCODE_EXECUTABLE`, or a
// `code` on PATH). It never downloads VS Code. With none found it prints one line saying so and
// `0 passed, 0 failed, 1 skipped`, and exits 0. Under this runner there is no browser: the suite's UI helpers
// (screenshot, uiQuery, ...) answer "unavailable" and scenarios fall back to API checks.
//
// Usage: npm run test:e2e:electron [-- --filter name1,name2] [--keep]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { type ScenarioResult, type SessionKind, e2eEnv, isSuiteResults } from './bridgeProtocol';

const projectRoot = resolve(__dirname, '..', '..');
const artifactsDir = join(projectRoot, 'e2e-artifacts');
const suiteFile = join(projectRoot, 'dist', 'e2e', 'suite.js');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The desktop VS Code executable: `VSCODE_EXECUTABLE`, else the Electron binary behind a `code` on PATH. */
function findVsCode(): string | undefined {
  const fromEnv = process.env.VSCODE_EXECUTABLE;
  if (fromEnv) {
    // Set on purpose: a wrong path is a mistake to report, not a reason to skip.
    if (!existsSync(fromEnv)) throw new Error(`VSCODE_EXECUTABLE=${fromEnv} does not exist`);
    return fromEnv;
  }
  const codeCli = findOnPath('code');
  if (!codeCli) return undefined;
  // `code` is a shell script next to (Linux: in bin/ below) the real executable; test-electron needs the executable.
  const real = realpathSync(codeCli);
  const candidates = [
    join(real, '..', '..', 'code'),
    join(real, '..', '..', '..', 'MacOS', 'Electron'),
    join(real, '..', '..', 'Code.exe'),
  ];
  return candidates.find((candidate) => existsSync(candidate)) ?? real;
}

function closingLine(results: readonly ScenarioResult[]): string {
  const passed = results.filter((result) => result.outcome === 'passed').length;
  const failed = results.filter((result) => result.outcome === 'failed').length;
  const skipped = results.filter((result) => result.outcome === 'skipped').length;
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

async function runSession(
  executable: string,
  kind: SessionKind,
  runDir: string,
  filter: string | undefined,
): Promise<{
  results: readonly ScenarioResult[];
  pendingSessions: readonly SessionKind[];
}> {
  const dir = join(runDir, kind);
  const workspace = join(dir, 'workspace');
  const userData = join(dir, 'data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(workspace, { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': kind === 'untrusted',
      'security.workspace.trust.startupPrompt': 'never',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoUpdate': false,
      'chat.disableAIFeatures': true,
      'git.enabled': false,
      'files.hotExit': 'off',
    }),
  );
  const resultsFile = join(dir, 'results.json');
  let exitCode: number;
  try {
    exitCode = await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: projectRoot,
      extensionTestsPath: suiteFile,
      launchArgs: [
        workspace,
        `--user-data-dir=${userData}`,
        `--extensions-dir=${join(dir, 'ext')}`,
        '--disable-extensions',
        ...(kind === 'untrusted' ? [] : ['--disable-workspace-trust']),
      ],
      extensionTestsEnv: {
        [e2eEnv.resultsFile]: resultsFile,
        [e2eEnv.artifactsDir]: artifactsDir,
        [e2eEnv.logsDir]: join(userData, 'logs'),
        [e2eEnv.session]: kind,
        [e2eEnv.runner]: 'electron',
        ...(filter ? { [e2eEnv.filter]: filter } : {}),
      },
    });
  } catch (error) {
    // runTests rejects when VS Code exits non-zero (a failed scenario); the results file says which.
    exitCode = 1;
    if (!existsSync(resultsFile)) say(`# VS Code failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed: unknown = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : undefined;
  if (isSuiteResults(parsed)) return { results: parsed.results, pendingSessions: parsed.pendingSessions };
  return {
    results: [
      {
        name: `session ${kind}`,
        outcome: 'failed',
        detail: `VS Code exited ${exitCode} without results`,
        durationMs: 0,
      },
    ],
    pendingSessions: [],
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const filterIndex = argv.indexOf('--filter');
  const filter = filterIndex >= 0 ? argv[filterIndex + 1] : process.env[e2eEnv.filter];
  const keep = argv.includes('--keep');

  const executable = findVsCode();
  if (!executable) {
    say('no desktop VS Code found (set VSCODE_EXECUTABLE or put `code` on PATH); skipped');
    say('0 passed, 0 failed, 1 skipped');
    return 0;
  }
  if (!existsSync(suiteFile)) throw new Error(`${suiteFile} is missing: run node test/e2e/build.mjs first`);
  try {
    say(
      `# desktop VS Code: ${executable} (${execFileSync(executable, ['--version'], { encoding: 'utf8' }).split('\n')[0]})`,
    );
  } catch {
    say(`# desktop VS Code: ${executable}`);
  }
  mkdirSync(artifactsDir, { recursive: true });

  const runDir = join('/tmp', `lce2e-el-${randomBytes(3).toString('hex')}`);
  const results: ScenarioResult[] = [];
  try {
    const sessionsToRun: SessionKind[] = ['default'];
    const sessionsRun = new Set<SessionKind>();
    for (let kind = sessionsToRun.shift(); kind !== undefined; kind = sessionsToRun.shift()) {
      sessionsRun.add(kind);
      const outcome = await runSession(executable, kind, runDir, filter);
      results.push(...outcome.results);
      for (const pending of outcome.pendingSessions) {
        if (!sessionsRun.has(pending) && !sessionsToRun.includes(pending)) sessionsToRun.push(pending);
      }
    }
  } finally {
    if (!keep) rmSync(runDir, { recursive: true, force: true });
  }
  for (const result of results.filter((each) => each.outcome === 'failed'))
    say(`# failed: ${result.name}: ${result.detail ?? ''}`);
  say(closingLine(results));
  return results.some((result) => result.outcome === 'failed') || results.length === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`not ok e2e electron runner: ${error instanceof Error ? error.message : String(error)}`);
    say('0 passed, 1 failed');
    process.exit(1);
  },
);
