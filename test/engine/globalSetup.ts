// Vitest global setup of the engine tests: builds or reuses llama-server, generates or reuses the tiny model, and starts
// the server with an API key. The tests read where it runs through `inject(...)`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { TINY_MODEL, ensureModel } from './makeGguf';
import { ensureLlamaServer, llamaServerVersion, startLlamaServer } from './llamaServer';
import type { RunningLlamaServer } from './llamaServer';

/** The window the server is started with; below the model's training length so detection must read the served one. */
export const ENGINE_CONTEXT_SIZE = 4096;

declare module 'vitest' {
  export interface ProvidedContext {
    engineBaseUrl: string;
    engineApiKey: string;
    engineLogFile: string;
    engineCommit: string;
    engineContextSize: number;
    engineTrainContextSize: number;
    /** Why the engine could not be prepared (build, model or server start), or '' when it runs. */
    engineSetupError: string;
  }
}

let server: RunningLlamaServer | null = null;

/**
 * Prepares the engine. A failure here (build, model, server start) is handed to the tests instead of thrown: vitest
 * would otherwise end without running any reporter, and the run must still close with `N passed, N failed`.
 */
export async function setup(project: TestProject): Promise<void> {
  project.provide('engineSetupError', '');
  try {
    await startEngine(project);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[engine] setup failed: ${message}`);
    project.provide('engineSetupError', message);
  }
}

async function startEngine(project: TestProject): Promise<void> {
  const binary = ensureLlamaServer();
  const { version, commit } = llamaServerVersion(binary);
  const model = await ensureModel(TINY_MODEL, (line) => console.log(`[engine] ${line}`));
  const logFile = join(mkdtempSync(join(tmpdir(), 'latency-copilot-engine-')), 'llama-server.log');
  // A fresh random key per run: the tests prove that the extension's requests carry it and that a missing one is refused.
  const apiKey = `test-${randomBytes(12).toString('hex')}`;
  server = await startLlamaServer({
    binary,
    modelPath: model.path,
    contextSize: ENGINE_CONTEXT_SIZE,
    threads: 1,
    slots: 1,
    apiKey,
    logFile,
  });
  console.log(`[engine] llama.cpp commit ${commit ?? 'unknown'} (${version})`);
  console.log(
    `[engine] model ${model.path} (${(model.bytes / 1e6).toFixed(1)} MB, sha256 ${model.sha256.slice(0, 16)}..., ${model.generated ? 'generated now' : 'cached'})`,
  );
  console.log(
    `[engine] llama-server pid ${server.pid} at ${server.baseUrl}, -t 1, -c ${ENGINE_CONTEXT_SIZE}, log ${logFile}`,
  );
  project.provide('engineBaseUrl', server.baseUrl);
  project.provide('engineApiKey', apiKey);
  project.provide('engineLogFile', logFile);
  project.provide('engineCommit', commit ?? 'unknown');
  project.provide('engineContextSize', ENGINE_CONTEXT_SIZE);
  project.provide('engineTrainContextSize', TINY_MODEL.contextLength);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = null;
}
