// Issue 4 in a real editor: ghost text from the simulator appears and Tab accepts it (checked on disk); typing along a
// suggestion keeps it without a new request (checked in the simulator's request log); a `.env` file gets no request at
// all, and neither does an untitled buffer, a file outside the workspace or a git-ignored one. The backend is a simulator started in the extension host, reached over llama.cpp's /infill.
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SimulatorOptions } from '../../../src/sim/simOptions';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import type { Scenario, ScenarioContext } from '../suite/scenario';

const FUNCTION_HEAD = 'def add(a, b):\n    ';
const SUGGESTION = 'return a + b';
// The model's answer: the line, then more, so that typing through it is served from the stream already read.
const ANSWER = `${SUGGESTION}\n\n\ndef sub(a, b):\n    return a - b\n`;
const ENV_MARKER = 'E2E_SECRET_MARKER_7f3a';

/**
 * Inline suggestions the extension has counted as accepted, over every backend: read from the stats hub that
 * `activate()` hands back (its `statsSink`), whose snapshot carries each backend's suggestion figures.
 */
function acceptedSuggestions(api: unknown): number {
  const sink: unknown = typeof api === 'object' && api !== null && 'statsSink' in api ? api.statsSink : null;
  if (typeof sink !== 'object' || sink === null || !('snapshot' in sink) || typeof sink.snapshot !== 'function')
    return -1;
  const snapshot = (sink.snapshot as () => { endpoints: { keystrokeToSuggestion: { accepted: number } | null }[] })();
  return snapshot.endpoints.reduce((sum, endpoint) => sum + (endpoint.keystrokeToSuggestion?.accepted ?? 0), 0);
}

/** Generation requests the simulator has received (health checks and model lists excluded). */
function generationRequests(sim: RunningSimulator): number {
  return sim.requests.filter((request) => request.method === 'POST' && request.protocol !== null).length;
}

async function setUp(ctx: ScenarioContext): Promise<RunningSimulator> {
  return useSimulatedBurst(ctx, 'E2E inline sim', {
    tokensPerSec: 1000,
    ttftMs: 60,
    completionFor: (request) => (request.prefix.endsWith(FUNCTION_HEAD) ? ANSWER : ''),
  });
}

/**
 * Starts a simulator in the extension host and makes it the only burst backend (llama.cpp /infill), with inline
 * completions on and VS Code's own suggestion list off; resolves once the extension has taken the setting.
 */
export async function useSimulatedBurst(
  ctx: ScenarioContext,
  labelPrefix: string,
  options: SimulatorOptions,
): Promise<RunningSimulator> {
  await ctx.activateExtension();
  const sim = await startSimulator(options);
  ctx.onCleanup(() => sim.close());
  const label = `${labelPrefix} ${sim.port}`;
  await ctx.updateSettings({
    'latencyCopilot.backends.useSimulator': false,
    'latencyCopilot.backends.burst': [
      { baseUrl: sim.baseUrl, protocol: 'llamacpp-infill', model: 'qwen2.5-coder-e2e', label, fim: 'auto' },
    ],
    'latencyCopilot.inline.enabled': true,
    'editor.inlineSuggest.enabled': true,
    'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
  });
  await ctx.waitForLog(new RegExp(`Backends: [^\\n]*${label}`), { timeoutMs: 20_000 });
  return sim;
}

/** Waits for visible ghost text that starts with `expected`; skips under a runner without a browser. */
async function waitForGhost(ctx: ScenarioContext, expected: string): Promise<string> {
  let lastSeen = '(nothing yet)';
  ctx.onCleanup(() => ctx.note(`last ghost text seen while waiting for "${expected}": ${lastSeen}`));
  return ctx.waitFor(
    `ghost text "${expected}"`,
    async () => {
      const answer = await ctx.ghostText();
      if (!answer.available) ctx.skip(answer.reason);
      // Ghost text renders spaces as non-breaking spaces, in one span per token.
      const text = answer.value.text.replace(/\s+/g, ' ');
      lastSeen = answer.value.visible ? text : '(none visible)';
      return answer.value.visible && text.includes(expected) ? text : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** Ghost text from the simulator appears; Tab accepts it; the saved file holds it. */
export const inlineGhostTextScenario: Scenario = {
  name: 'inline: ghost text from the simulator appears and Tab accepts it',
  timeoutMs: 120_000,
  async run(ctx) {
    const sim = await setUp(ctx);
    await ctx.openFile('calc.py', 'def add(a, b):\n');
    await ctx.type('    ');
    await waitForGhost(ctx, SUGGESTION);
    assert.ok(generationRequests(sim) >= 1, 'the suggestion should come from a request to the simulator');
    await ctx.screenshot('inline-ghost-text');
    await ctx.uiPress('Tab');
    const saved = await ctx.waitFor(
      'accepted text on disk',
      async () => {
        const text = await ctx.saveAndRead();
        return text.includes(`    ${SUGGESTION}`) ? text : undefined;
      },
      { timeoutMs: 15_000 },
    );
    assert.ok(saved.startsWith(`def add(a, b):\n    ${SUGGESTION}`), `file after Tab:\n${saved}`);
    // VS Code ran the suggestion's command after inserting it: the speed panel counts it as accepted.
    const api = await ctx.activateExtension();
    const accepted = await ctx.waitFor(
      'the acceptance counted',
      () => (acceptedSuggestions(api) >= 1 ? true : undefined),
      {
        timeoutMs: 5_000,
      },
    );
    assert.ok(accepted, 'the accepted suggestion should be counted');
  },
};

/** Typing the characters of the shown suggestion keeps it, and no new request goes out. */
export const inlineTypeThroughScenario: Scenario = {
  name: 'inline: typing along a suggestion keeps it without a new request',
  timeoutMs: 120_000,
  async run(ctx) {
    const sim = await setUp(ctx);
    await ctx.openFile('calc2.py', 'def add(a, b):\n');
    await ctx.type('    ');
    await waitForGhost(ctx, SUGGESTION);
    // Let any request for the state after the suggestion (speculative) go out first: it is counted before typing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = generationRequests(sim);
    await ctx.type('retu');
    const ghost = await waitForGhost(ctx, 'rn a + b');
    assert.ok(!ghost.includes('return'), `the ghost text should be what is left of the suggestion, got "${ghost}"`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(generationRequests(sim), before, 'typing along the suggestion must not send a new request');
    const document = vscode.window.activeTextEditor?.document;
    assert.ok(document?.getText().endsWith('    retu'), 'the typed text is in the document');
  },
};

/** A `.env` file: typing in it sends nothing, and its content never reaches the backend. */
export const inlineSecretFileScenario: Scenario = {
  name: 'inline: an .env file gets no request',
  timeoutMs: 120_000,
  async run(ctx) {
    const sim = await setUp(ctx);
    const before = generationRequests(sim);
    await ctx.openFile('.env', `API_TOKEN=${ENV_MARKER}\n`);
    await ctx.type('OTHER=');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(generationRequests(sim), before, 'no request may be sent for a .env file');
    const leaked = sim.requests.some((request) => JSON.stringify(request.body ?? '').includes(ENV_MARKER));
    assert.ok(!leaked, 'the .env content must never reach the backend');
    // Control: the same typing in an ordinary file does send requests (the provider is alive).
    await ctx.openFile('control.py', 'def add(a, b):\n');
    await ctx.type('    ');
    await ctx.waitFor('a request from the ordinary file', () => generationRequests(sim) > before, {
      timeoutMs: 30_000,
    });
  },
};

/** Shows a document with the cursor at its end (for documents `ctx.openFile` cannot make: untitled, outside the workspace). */
async function showAtEnd(document: vscode.TextDocument): Promise<void> {
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  const end = document.lineAt(document.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
}

/** Only files on disk inside the workspace and not ignored get requests: the same gate as repository tasks (issue 14). */
export const inlineFileGateScenario: Scenario = {
  name: 'inline: an untitled buffer, a file outside the workspace and a git-ignored file get no request',
  timeoutMs: 120_000,
  async run(ctx) {
    const sim = await setUp(ctx);
    const before = generationRequests(sim);
    await showAtEnd(await vscode.workspace.openTextDocument({ language: 'python', content: 'def add(a, b):\n' }));
    await ctx.type('    ');
    const outsideFolder = await mkdtemp(join(tmpdir(), 'lc-e2e-outside-'));
    ctx.onCleanup(() => rm(outsideFolder, { recursive: true, force: true }));
    assert.ok(
      !outsideFolder.startsWith(ctx.workspaceFolder),
      `${outsideFolder} should be outside the workspace ${ctx.workspaceFolder}`,
    );
    const outsidePath = join(outsideFolder, 'outside.py');
    await writeFile(outsidePath, 'def add(a, b):\n', 'utf8');
    await showAtEnd(await vscode.workspace.openTextDocument(vscode.Uri.file(outsidePath)));
    await ctx.type('    ');
    // A nested .gitignore in a folder no earlier scenario used: the gate reads it fresh (no watcher event to wait for).
    await mkdir(join(ctx.workspaceFolder, 'gate-e2e'), { recursive: true });
    await writeFile(join(ctx.workspaceFolder, 'gate-e2e', '.gitignore'), 'generated.py\n', 'utf8');
    await ctx.openFile('gate-e2e/generated.py', 'def add(a, b):\n');
    await ctx.type('    ');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(
      generationRequests(sim),
      before,
      'no request may be sent for an untitled buffer, an outside file or an ignored file',
    );
    // Control: the same typing in an ordinary file beside the ignored one does send requests (the provider is alive).
    await ctx.openFile('gate-e2e/kept.py', 'def add(a, b):\n');
    await ctx.type('    ');
    await ctx.waitFor('a request from the ordinary file', () => generationRequests(sim) > before, {
      timeoutMs: 30_000,
    });
  },
};
