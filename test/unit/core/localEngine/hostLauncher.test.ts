// The host launcher with stand-in host programs (plain scripts, no node-llama-cpp): what it does with a host that reports
// ready, reports a failure, dies while starting, hangs, or ignores a stop.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchHost, newEngineKey } from '../../../../src/core/localEngine/hostLauncher';
import { ENGINE_KEY_ENV } from '../../../../src/core/localEngine/hostMessages';
import { LocalEngineError } from '../../../../src/core/localEngine/localEngineError';

const dir = mkdtempSync(join(tmpdir(), 'latency-copilot-launcher-'));
const modelPath = join(dir, 'model.gguf');
writeFileSync(modelPath, 'GGUF');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, source: string): string {
  const path = join(dir, `${name}.js`);
  writeFileSync(path, source);
  return path;
}

function launch(hostScript: string, extra: { startTimeoutMs?: number; stopTimeoutMs?: number } = {}) {
  return launchHost({ hostScript, args: { modelPath, moduleDir: dir, contextSize: 128, threads: 1 }, ...extra });
}

async function failureOf(promise: Promise<unknown>): Promise<LocalEngineError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof LocalEngineError)) throw new Error(`expected a LocalEngineError, got ${String(error)}`);
  return error;
}

describe('launchHost', () => {
  it('resolves with the reported port, passes the arguments, and stops the host cleanly', async () => {
    const host = await launch(
      script(
        'ready',
        `const args = process.argv.slice(2);
         if (args.join(' ') !== '--model ${modelPath.replace(/\\/g, '\\\\')} --module-dir ${dir.replace(/\\/g, '\\\\')} --context 128 --threads 1') process.exit(9);
         process.on('message', (m) => { if (m.type === 'stop') process.exit(0); });
         process.send({ type: 'ready', port: 45678, contextSize: 128, loadMs: 12 });`,
      ),
    );
    expect(host.baseUrl).toBe('http://127.0.0.1:45678');
    expect(host.contextSize).toBe(128);
    await host.stop();
    expect(await host.exited).toEqual({ code: 0, signal: null });
  });

  it('gives the host a fresh random key through its environment, never its command line, and returns it for the transport', async () => {
    const seen = join(dir, 'seen.json');
    const reporter = script(
      'key',
      `require('node:fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ key: process.env.${ENGINE_KEY_ENV} ?? null, argv: process.argv }));
       process.on('message', (m) => { if (m.type === 'stop') process.exit(0); });
       process.send({ type: 'ready', port: 45680, contextSize: 1, loadMs: 1 });`,
    );
    const readSeen = (): { key: string | null; argv: string[] } =>
      JSON.parse(readFileSync(seen, 'utf8')) as { key: string | null; argv: string[] };
    const first = await launch(reporter);
    await first.stop();
    const firstSeen = readSeen();
    expect(firstSeen.key).toBe(first.apiKey);
    expect(first.apiKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(firstSeen.argv.join(' ')).not.toContain(first.apiKey);
    const second = await launch(reporter);
    await second.stop();
    expect(second.apiKey).not.toBe(first.apiKey);
    const chosen = newEngineKey();
    const third = await launchHost({
      hostScript: reporter,
      args: { modelPath, moduleDir: dir, contextSize: 1, threads: 1 },
      apiKey: chosen,
    });
    await third.stop();
    expect(third.apiKey).toBe(chosen);
    expect(readSeen().key).toBe(chosen);
  });

  it("rejects with the host's own reason and message", async () => {
    const error = await failureOf(
      launch(
        script(
          'fails',
          `process.send({ type: 'failed', reason: 'binary-missing', message: 'install node-llama-cpp' }, () => process.exit(2));`,
        ),
      ),
    );
    expect(error.reason).toBe('binary-missing');
    expect(error.message).toBe('install node-llama-cpp');
  });

  it('a host that dies while starting gives start-failed with the end of its stderr', async () => {
    const error = await failureOf(launch(script('dies', `console.error('llama: out of memory'); process.exit(3);`)));
    expect(error.reason).toBe('start-failed');
    expect(error.message).toContain('code 3');
    expect(error.message).toContain('out of memory');
  });

  it('a host that never reports is killed after the start timeout', async () => {
    const error = await failureOf(launch(script('hangs', `setInterval(() => {}, 1000);`), { startTimeoutMs: 300 }));
    expect(error.reason).toBe('start-failed');
    expect(error.message).toMatch(/did not report ready/);
  });

  it('a host that ignores the stop request is killed after the stop timeout', async () => {
    const host = await launch(
      script(
        'stubborn',
        `process.on('message', () => {}); process.on('SIGTERM', () => {}); process.send({ type: 'ready', port: 45679, contextSize: 1, loadMs: 1 }); setInterval(() => {}, 1000);`,
      ),
      { stopTimeoutMs: 300 },
    );
    await host.stop();
    expect((await host.exited).signal).toBe('SIGKILL');
  });

  it('a missing model is reported before anything is started', async () => {
    const error = await failureOf(
      launchHost({
        hostScript: join(dir, 'none.js'),
        args: { modelPath: join(dir, 'missing.gguf'), moduleDir: dir, contextSize: 0, threads: 0 },
      }),
    );
    expect(error.reason).toBe('model-missing');
  });
});
