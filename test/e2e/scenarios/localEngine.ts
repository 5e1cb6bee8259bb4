// The local engine inside a real VS Code: with `latencyCopilot.localEngine.modelPath` pointing at the tiny generated
// model (test/engine/makeGguf.ts) and `nodeLlamaCppPath` at the lean node-llama-cpp install of the engine suite, the
// extension starts its engine host (dist/localEngineHost.js, forked from the extension host's own Node) on the first
// request and Probe Backends is served by it. Both files come from `npm run test:engine`; .ci/run runs the e2e suite
// BEFORE it, so on a fresh machine they are missing and the scenario is skipped with the reason.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Scenario } from '../suite/scenario';

/** test/engine/makeGguf.ts's `cacheDir()` (not imported: that module pulls the GGUF writer and the tokenizer in). */
function engineCacheDir(): string {
  return process.env['LATENCY_COPILOT_CACHE'] ?? join(homedir(), '.cache', 'latency-copilot');
}

/** The tiny model's file name: `latency-copilot-<id>-v<GENERATOR_VERSION>.gguf` in makeGguf.ts. */
const TINY_MODEL_NAME = 'latency-copilot-tiny-v2';

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Probe Backends starts the local engine host on first use and the probe of the local backend succeeds through it. */
export const localEngineProbeScenario: Scenario = {
  name: 'local engine: starts on first use and serves Probe Backends',
  timeoutMs: 150_000,
  async run(ctx) {
    const modelPath = join(engineCacheDir(), 'models', `${TINY_MODEL_NAME}.gguf`);
    const moduleDir = join(engineCacheDir(), 'node-llama-cpp');
    if (!existsSync(modelPath)) ctx.skip(`the tiny model ${modelPath} is missing (npm run test:engine generates it)`);
    if (!existsSync(join(moduleDir, 'node_modules', 'node-llama-cpp', 'package.json'))) {
      ctx.skip(`node-llama-cpp is not installed in ${moduleDir} (npm run test:engine installs it)`);
    }
    await ctx.activateExtension();
    const logBefore = (await ctx.readLog()).length;
    await ctx.updateSettings({
      'latencyCopilot.localEngine.modelPath': modelPath,
      'latencyCopilot.localEngine.nodeLlamaCppPath': moduleDir,
    });
    // Not awaited: the command's promise is the whole probe; the log says when each backend is done.
    void vscode.commands.executeCommand('latencyCopilot.probeBackends');
    const label = `Local engine ${TINY_MODEL_NAME}`;
    const probeLine = new RegExp(`Probe ${escaped(label)}: (\\S+)`);
    const outcome = await ctx
      .waitFor(
        'the probe of the local engine in the log',
        async () => {
          const fresh = (await ctx.readLog()).slice(logBefore);
          const match = probeLine.exec(fresh);
          return match?.[1] === undefined ? undefined : { status: match[1], log: fresh };
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      )
      .catch(async (error: unknown) => {
        const lines = (await ctx.readLog())
          .slice(logBefore)
          .split('\n')
          .filter((line) => /Local engine|Probe/.test(line));
        throw new Error(`${String(error)}; log: ${lines.join(' / ') || 'nothing'}`);
      });
    const engineLines = outcome.log.split('\n').filter((line) => line.includes('Local engine'));
    ctx.note(`local engine log: ${engineLines.map((line) => line.replace(/^\S+ \S+ /, '')).join(' / ')}`);
    assert.equal(outcome.status, 'ok', `the probe of ${label}: ${engineLines.join(' / ')}`);
    // The engine was started by this probe (first use), from the configured model, on a loopback port it chose.
    const loaded = new RegExp(
      `Local engine: ${escaped(modelPath)} loaded in (\\d+) ms, (\\d+) tokens of context, at http://127\\.0\\.0\\.1:(\\d+) \\(pid (\\d+)\\)`,
    ).exec(outcome.log);
    assert.ok(loaded, `a "loaded" line for ${modelPath}: ${engineLines.join(' / ')}`);
    const port = Number(loaded[3]);
    const pid = Number(loaded[4]);
    assert.ok(port > 0 && port < 65_536, `the engine's port: ${loaded[3]}`);
    ctx.note(`engine host pid ${pid}, port ${port}, loaded in ${loaded[1]} ms`);
    assert.match(outcome.log, /Local engine: starting/);
    assert.match(outcome.log, /Local engine: running/);
  },
};
