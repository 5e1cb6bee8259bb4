// The built-in simulated backends: the burst one continues the person's own code, read from the open documents and
// the workspace with the repository index's rules (no dependencies, no secrets, nothing big or binary), lazily, and
// refreshed after saves at most every 5 s. `WorkspaceCodeTexts` takes a structural fake of `vscode.workspace`.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/core/logger';
import { startSimulator } from '../../../src/sim/simulator';
import {
  SimulatedBackends,
  WorkspaceCodeTexts,
  type CodeDocument,
  type CodeUri,
  type CodeWorkspace,
} from '../../../src/vscode/simulatedBackends';
import { field, parseRecord, postJson, testAgent } from '../sim/simHelpers';

class FakeUri implements CodeUri {
  constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

const encoder = new TextEncoder();

/** A fake workspace rooted at /ws: files on disk, open documents, a save event, and a record of what was read. */
function fakeWorkspace(disk: Record<string, string | Uint8Array>, open: Record<string, string>) {
  const listeners: ((document: CodeDocument) => unknown)[] = [];
  const read: string[] = [];
  const findCalls: unknown[][] = [];
  const document = (uri: FakeUri, text: string): CodeDocument => ({ uri, getText: () => text });
  const workspace: CodeWorkspace<FakeUri> = {
    textDocuments: Object.entries(open).map(([key, text]) => {
      const [scheme, path] = key.includes('://') ? key.split('://') : ['file', key];
      return document(new FakeUri(scheme ?? 'file', path ?? key), text);
    }),
    onDidSaveTextDocument: (listener) => {
      listeners.push(listener);
      return { dispose: () => listeners.splice(listeners.indexOf(listener), 1) } as never;
    },
    findFiles: async (include, exclude, maxResults) => {
      findCalls.push([include, exclude, maxResults]);
      return Object.keys(disk).map((path) => new FakeUri('file', path));
    },
    fs: {
      stat: async (uri) => {
        const content = disk[uri.path];
        if (content === undefined) throw new Error('ENOENT');
        return { size: typeof content === 'string' ? encoder.encode(content).length : content.length };
      },
      readFile: async (uri) => {
        read.push(uri.path);
        const content = disk[uri.path];
        if (content === undefined) throw new Error('ENOENT');
        return typeof content === 'string' ? encoder.encode(content) : content;
      },
    },
    asRelativePath: (uri) => uri.path.replace(/^\/ws\//, ''),
  };
  const save = (path: string, text: string) => {
    for (const listener of [...listeners]) listener(document(new FakeUri('file', path), text));
  };
  return { workspace, read, findCalls, listeners, save };
}

const DISK = {
  '/ws/src/a.ts': 'export const a = 1;\n',
  '/ws/src/b.py': 'def b():\n    return 2\n',
  '/ws/src/open.ts': 'the version on disk\n',
  '/ws/node_modules/lib/index.js': 'module.exports = 1;\n',
  '/ws/src/.env.ts': 'export const KEY = "secret";\n',
  '/ws/src/id_rsa.sh': 'not really a key\n',
  '/ws/src/big.ts': `// ${'x'.repeat(300 * 1024)}\n`,
  '/ws/src/blob.ts': Uint8Array.from([99, 0, 1, 2]),
};
const OPEN = {
  '/ws/src/open.ts': 'the unsaved text in the editor\n',
  '/ws/.env': 'API_KEY=do-not-read\n',
  'output://extension-output': 'log lines\n',
};

/** Lets the background read run (fake timers leave promises alone; this turns the loop until `done`). */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200 && !done(); turn++) await vi.advanceTimersByTimeAsync(0);
  expect(done()).toBe(true);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkspaceCodeTexts', () => {
  it('reads nothing until first asked; then open documents at once and workspace files in the background, by the rules', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fake = fakeWorkspace(DISK, OPEN);
    const texts = new WorkspaceCodeTexts(fake.workspace, silentLogger);
    expect([fake.findCalls.length, fake.listeners.length]).toEqual([0, 0]);
    const first = texts.texts();
    expect(first).toEqual(['the unsaved text in the editor\n']);
    await until(() => texts.texts() !== first);
    const loaded = texts.texts();
    expect([...loaded].sort()).toEqual([
      'def b():\n    return 2\n',
      'export const a = 1;\n',
      'the unsaved text in the editor\n',
    ]);
    expect(texts.texts()).toBe(loaded);
    // Secrets, dependencies and big files are judged before reading; only the binary one had to be read to be known.
    expect(fake.read.sort()).toEqual(['/ws/src/a.ts', '/ws/src/b.py', '/ws/src/blob.ts']);
    const [include, exclude, maxResults] = fake.findCalls[0] ?? [];
    expect(String(include)).toContain('ts');
    expect(String(exclude)).toMatch(/node_modules.*\.git|\.git.*node_modules/);
    expect(maxResults).toBe(300);
    texts.dispose();
    expect(fake.listeners.length).toBe(0);
  });

  it('takes a saved document at once and publishes at most every 5 s; secrets saved are ignored', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fake = fakeWorkspace({ '/ws/src/a.ts': 'a1\n' }, {});
    const texts = new WorkspaceCodeTexts(fake.workspace, silentLogger);
    const first = texts.texts();
    await until(() => texts.texts() !== first);
    const loaded = texts.texts();
    fake.save('/ws/src/a.ts', 'a2\n');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(texts.texts()).toBe(loaded);
    fake.save('/ws/src/a.ts', 'a3\n');
    fake.save('/ws/src/new.ts', 'new\n');
    await vi.advanceTimersByTimeAsync(1);
    const refreshed = texts.texts();
    expect(refreshed).toEqual(['a3\n', 'new\n']);
    fake.save('/ws/src/a.ts', 'a4\n');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(texts.texts()).toBe(refreshed);
    await vi.advanceTimersByTimeAsync(1);
    expect(texts.texts()).toEqual(['a4\n', 'new\n']);
    const settled = texts.texts();
    fake.save('/ws/.env', 'API_KEY=x\n');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(texts.texts()).toBe(settled);
    fake.save('/ws/src/a.ts', 'a5\n');
    texts.dispose();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(texts.texts()).toBe(settled);
  });
});

describe('SimulatedBackends', () => {
  it('the burst server continues the code texts it is given; the long-context one does not', async () => {
    const code = Array.from(
      { length: 40 },
      (_, n) => `export function step${n}(input: number): number {\n  return input * ${n} + 1;\n}\n`,
    ).join('\n');
    let calls = 0;
    const backends = new SimulatedBackends(
      silentLogger,
      () => {
        calls += 1;
        return [code];
      },
      () => startSimulator,
    );
    const agent = testAgent();
    try {
      const [burst, longContext] = await backends.start({ tokensPerSecond: 20_000, ttftMs: 1 });
      // Asked once at start, so that a reader can begin before the first suggestion.
      expect(calls).toBe(1);
      const cursor = code.indexOf('  return input * 25');
      const body = {
        model: 'm',
        prompt: `// Path: src/steps.ts\n${code.slice(0, cursor)}`,
        suffix: code.slice(cursor + 40),
        max_tokens: 10,
      };
      const answer = async (baseUrl: string | undefined) =>
        String(
          field(
            parseRecord(await (await postJson(agent, `${baseUrl ?? ''}/completions`, body)).text()),
            'choices',
            0,
            'text',
          ),
        );
      const continued = await answer(burst?.target.baseUrl);
      expect(continued.length).toBeGreaterThan(10);
      expect(code.slice(cursor).startsWith(continued)).toBe(true);
      expect(code.slice(cursor).startsWith(await answer(longContext?.target.baseUrl))).toBe(false);
    } finally {
      await backends.stop();
      await agent.close();
    }
  });
});
