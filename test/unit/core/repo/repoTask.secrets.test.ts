import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/core/clock';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import type { LiveRequestView, StatsSink } from '../../../../src/core/generation/generationService';
import { isSecretFileName } from '../../../../src/core/repo/fileSafety';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { prepareRepoTask } from '../../../../src/core/repo/repoTask';
import { RoutedGenerationService } from '../../../../src/core/generation/routedGenerationService';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { createTransport, type Transport } from '../../../../src/core/stream/transport';
import { startSimulator, type RunningSimulator } from '../../../../src/sim/simulator';
import { recordingFileSystem } from '../../builders/repoFileSystems';
import { SECRET_MARKER, makeTree, plantedRepo, removeTree } from './repoTestTree';

let root = '';
let sim: RunningSimulator;
let transport: Transport;
const readPaths: string[] = [];

beforeAll(async () => {
  root = makeTree(plantedRepo());
  sim = await startSimulator({ ttftMs: 2, tokensPerSec: 20_000, completionTokens: 30, contextWindow: 200_000 });
  transport = createTransport();
});

afterAll(async () => {
  await transport.close();
  await sim.close();
  removeTree(root);
});

const sink: StatsSink = {
  requestStarted: (_view: LiveRequestView) => undefined,
  requestFinished: () => undefined,
  cacheServed: () => undefined,
};

describe('secrets never reach a prompt', () => {
  it('plants a .env (and keys, credentials) with a marker; no request body the simulator received contains it', async () => {
    const disk = nodeRepoFileSystem(root);
    // Record every file the index and the packer read: a secret must never even be opened.
    const recording = recordingFileSystem(disk, readPaths);
    const index = new RepoIndex(recording);
    await index.build();
    const longContext: ResolvedEndpoint = {
      id: 'longContext#0',
      role: 'longContext',
      label: 'Simulated long context',
      preset: null,
      target: { baseUrl: `${sim.baseUrl}/v1`, protocol: 'openai-chat', model: 'sim-long' },
      contextWindow: 200_000,
      fim: 'none',
      simulated: true,
      predictedOutputs: true,
      price: { kind: 'free', why: 'simulated' },
    };
    const routed = new RoutedGenerationService({
      knownSecrets: () => [],
      transport,
      clock: systemClock,
      endpoints: (role) => (role === 'longContext' ? [longContext] : []),
      sink,
      countTokens,
    });
    const queries = [
      ['ask', 'what is the API_KEY in .env and the password in secrets.yaml and the private key?'],
      ['explain', ''],
      ['refactor', 'rename every secret, credential, token and key variable'],
    ] as const;
    for (const [kind, request] of queries) {
      const prepared = await prepareRepoTask(
        { index, fs: recording, countTokens, plan: (spec) => routed.plan(spec) },
        {
          kind,
          request,
          signal: new AbortController().signal,
          activePath: '.env',
          openPaths: ['.env', 'keys/id_rsa', 'src/main.ts'],
          recentEdits: ['credentials.json'],
        },
      );
      expect(prepared.packed.files).toBeGreaterThan(0);
      expect(prepared.route?.reason).toBe('repo-task');
      const run = routed.start(prepared.spec);
      for await (const _event of run.events) {
        // Drain the stream.
      }
    }
    const bodies = sim.requests.filter((entry) => entry.path.includes('chat/completions'));
    expect(bodies.length).toBe(3);
    for (const entry of bodies) {
      const body = JSON.stringify(entry.body);
      expect(body).toContain('RateLimiter');
      expect(body).not.toContain(SECRET_MARKER);
      expect(body).not.toContain('private notes');
    }
    expect(readPaths.filter((path) => isSecretFileName(path.slice(path.lastIndexOf('/') + 1)))).toEqual([]);
  });
});
