// The local engine host: a plain Node program the extension starts with `child_process.fork` (the extension host's own
// Node). It loads node-llama-cpp from a folder the person chose, loads the GGUF model, serves the OpenAI protocol on
// 127.0.0.1 on a port the system picks, and tells the parent that port over IPC. It exits when the parent goes away, so
// a crashed or killed VS Code never leaves a model in memory.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ENGINE_KEY_ENV, MIN_ENGINE_KEY_LENGTH, parseHostArguments } from '../core/localEngine/hostMessages';
import type { HostMessage } from '../core/localEngine/hostMessages';
import { LocalModel } from './localModel';
import { importNodeLlamaCpp, locateNodeLlamaCpp, nodeLlamaCppMissingMessage } from './nodeLlamaCpp';
import { OpenAiServer } from './openAiServer';

const startedAt = performance.now();
// The per-run key the server demands from every request. Taken out of the environment at once, so that nothing this
// process starts (node-llama-cpp may run helpers) inherits it.
const engineKey = process.env[ENGINE_KEY_ENV] ?? '';
delete process.env[ENGINE_KEY_ENV];
/** Set once the server runs; before that, losing the parent (VS Code gone mid-start) simply ends the process. */
let shutdownHook: (() => Promise<void>) | null = null;
process.on('disconnect', () => {
  if (shutdownHook) void shutdownHook();
  else process.exit(0);
});

function tell(message: HostMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      // Run by hand (no IPC channel): print it instead.
      console.log(JSON.stringify(message));
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

async function fail(reason: 'binary-missing' | 'model-missing' | 'start-failed', message: string): Promise<never> {
  await tell({ type: 'failed', reason, message });
  process.exit(2);
}

function isNoBinaryError(error: unknown): boolean {
  return error instanceof Error && error.name === 'NoBinaryFoundError';
}

async function main(): Promise<void> {
  const args = parseHostArguments(process.argv.slice(2));
  if (!args)
    return fail(
      'start-failed',
      'The local engine host was started without --model, --module-dir, --context and --threads.',
    );
  if (engineKey.length < MIN_ENGINE_KEY_LENGTH)
    return fail(
      'start-failed',
      `The local engine host was started without its key (${ENGINE_KEY_ENV}); it is started by the extension, not by hand.`,
    );
  if (!existsSync(args.modelPath) || !statSync(args.modelPath).isFile()) {
    return fail(
      'model-missing',
      `The model file ${args.modelPath} does not exist. Set latencyCopilot.localEngine.modelPath to a GGUF file, or give latencyCopilot.localEngine.modelUrl to download one.`,
    );
  }
  // Only the configured folder (or its node_modules) is looked at, and only after its package.json names node-llama-cpp:
  // importing a module runs it, so nothing found by walking up parent folders is ever imported.
  const location = locateNodeLlamaCpp(args.moduleDir);
  if (!location.found) return fail('binary-missing', nodeLlamaCppMissingMessage(args.moduleDir, location));
  const module = await importNodeLlamaCpp(location).catch((error: unknown) =>
    fail(
      'binary-missing',
      `node-llama-cpp at ${location.entry} could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
  if (!module)
    return fail('binary-missing', `${location.entry} is not a node-llama-cpp version the local engine supports (3.x).`);

  let model: LocalModel;
  try {
    model = await LocalModel.load(module, args);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (isNoBinaryError(error)) {
      return fail(
        'binary-missing',
        `node-llama-cpp has no prebuilt binary for ${process.platform}-${process.arch}: install @node-llama-cpp/${process.platform}-${process.arch} next to it. (${detail})`,
      );
    }
    return fail('start-failed', `The model ${args.modelPath} could not be loaded: ${detail}`);
  }
  const server = new OpenAiServer({
    model,
    modelId: basename(args.modelPath).replace(/\.gguf$/i, ''),
    apiKey: engineKey,
  });
  const port = await server.listen();

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close();
    await model.dispose().catch(() => undefined);
    process.exit(0);
  };
  shutdownHook = shutdown;
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'type' in message && message.type === 'stop')
      void shutdown();
  });
  await tell({ type: 'ready', port, contextSize: model.contextSize, loadMs: performance.now() - startedAt });
}

main().catch(async (error: unknown) => {
  await fail(
    'start-failed',
    `The local engine host failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
});
