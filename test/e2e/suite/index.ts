// The end-to-end suite's entry point: VS Code loads this module (as `extensionTestsPath`) inside its extension host and
// calls `run()`. It runs the scenarios of test/e2e/scenarios/all.ts one after another, prints `ok <name>` or
// `not ok <name>: <why>` for each and the totals, and writes the results for the runner. It rejects when a scenario
// failed, which makes VS Code exit with a non-zero code.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as vscode from 'vscode';
import { type ScenarioResult, type SessionKind, type SuiteResults, e2eEnv } from '../bridgeProtocol';
import { allScenarios } from '../scenarios/all';
import { closeAllEditorsWithoutPrompts, createScenarioContext } from './context';
import { type Scenario, ScenarioSkipped } from './scenario';

const defaultScenarioTimeoutMs = 60_000;

function print(line: string): void {
  // The extension host's console reaches the runner: through `codeAutomationLog` under code-server, through the
  // VS Code process's stdout under test-electron.
  console.log(line);
}

function currentSession(): SessionKind {
  return process.env[e2eEnv.session] === 'untrusted' ? 'untrusted' : 'default';
}

function selectedByFilter(scenario: Scenario): boolean {
  const filter = process.env[e2eEnv.filter];
  if (!filter) return true;
  return filter
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .some((part) => scenario.name.includes(part));
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n').slice(0, 6).join(' | ');
  return String(error);
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function workspaceFolderPath(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? folder.uri.fsPath : tmpdir();
}

/** Runs every scenario of this session; called by VS Code inside the extension host. */
export async function run(): Promise<void> {
  const session = currentSession();
  const environment = {
    workspaceFolder: workspaceFolderPath(),
    artifactsDir: process.env[e2eEnv.artifactsDir] ?? workspaceFolderPath(),
    logsDir: process.env[e2eEnv.logsDir],
    bridgeUrl: process.env[e2eEnv.bridgeUrl],
    runner: process.env[e2eEnv.runner] ?? 'unknown',
    print,
  };
  print(
    `# session ${session}, runner ${environment.runner}, VS Code ${vscode.version}, workspace ${environment.workspaceFolder}`,
  );

  const results: ScenarioResult[] = [];
  const pendingSessions = new Set<SessionKind>();
  const names = new Set<string>();

  for (const scenario of allScenarios) {
    if (names.has(scenario.name)) throw new Error(`two scenarios are named "${scenario.name}"`);
    names.add(scenario.name);
    const scenarioSession = scenario.session ?? 'default';
    if (!selectedByFilter(scenario)) {
      // Filtered-out scenarios are not counted: the filter is a developer's choice, not a skip to report.
      continue;
    }
    if (scenarioSession !== session) {
      pendingSessions.add(scenarioSession);
      continue;
    }

    const startMs = performance.now();
    const context = createScenarioContext(scenario.name, environment);
    let result: ScenarioResult;
    try {
      await withTimeout(scenario.run(context), scenario.timeoutMs ?? defaultScenarioTimeoutMs);
      result = { name: scenario.name, outcome: 'passed', durationMs: performance.now() - startMs };
      print(`ok ${scenario.name} (${Math.round(result.durationMs)} ms)`);
    } catch (error) {
      if (error instanceof ScenarioSkipped) {
        result = {
          name: scenario.name,
          outcome: 'skipped',
          detail: error.message,
          durationMs: performance.now() - startMs,
        };
        print(`skip ${scenario.name}: ${error.message}`);
        results.push(result);
        await withTimeout(context.dispose(), 15_000).catch(() => closeAllEditorsWithoutPrompts());
        continue;
      }
      result = {
        name: scenario.name,
        outcome: 'failed',
        detail: describeError(error),
        durationMs: performance.now() - startMs,
      };
      print(`not ok ${scenario.name}: ${result.detail}`);
      // A picture of the moment it failed; harmless where no browser exists.
      await context.screenshot(`failed-${scenario.name}`).catch(() => undefined);
    }
    results.push(result);
    try {
      await withTimeout(context.dispose(), 15_000);
    } catch (error) {
      print(`# cleanup after ${scenario.name} failed: ${describeError(error)}`);
      await closeAllEditorsWithoutPrompts().catch(() => undefined);
    }
  }

  const passed = results.filter((result) => result.outcome === 'passed').length;
  const failed = results.filter((result) => result.outcome === 'failed').length;
  const skipped = results.filter((result) => result.outcome === 'skipped').length;
  print(`# session ${session}: ${passed} passed, ${failed} failed, ${skipped} skipped`);

  const summary: SuiteResults = { session, results, pendingSessions: [...pendingSessions] };
  const resultsFile = process.env[e2eEnv.resultsFile];
  if (resultsFile) await writeFile(resultsFile, JSON.stringify(summary, null, 2), 'utf8');

  if (failed > 0) throw new Error(`${failed} end-to-end scenario(s) failed`);
}
