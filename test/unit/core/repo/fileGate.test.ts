// The one gate between a file and a model request (issue 14 item 3): inline completions and repository tasks agree on
// which files may be sent; the verdict costs a map lookup once known and never waits for a read.
import { afterAll, describe, expect, it } from 'vitest';
import { WorkspaceFileGate } from '../../../../src/core/repo/fileGate';
import type { FileGateReader, FileGateVerdict, GateDocument } from '../../../../src/core/repo/fileGate';
import { gatedRepoFileSystem } from '../../../../src/core/repo/gatedRepoFileSystem';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import { OWN_IGNORE_FILE, RepoIndex } from '../../../../src/core/repo/repoIndex';
import { IGNORE_FILE_NAMES } from '../../../../src/core/repo/fileGate';
import { recordingFileSystem } from '../../builders/repoFileSystems';
import { makeTree, removeTree } from './repoTestTree';

const FOLDER = 'file:///work/app';

/** An in-memory folder (path -> text) and global excludes, counting every read. */
class FakeDisk implements FileGateReader {
  reads = 0;
  /** When set, reads wait for `release()`. */
  private held: (() => void)[] | null = null;
  constructor(
    public files: Record<string, string>,
    public globalText: string | null = null,
  ) {}
  hold(): void {
    this.held = [];
  }
  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const resolve of waiting) resolve();
  }
  private async wait(): Promise<void> {
    const held = this.held;
    if (held !== null) await new Promise<void>((resolve) => held.push(resolve));
  }
  async readFolderFile(folder: string, relativePath: string): Promise<string | null> {
    expect(folder).toBe(FOLDER);
    this.reads += 1;
    await this.wait();
    return this.files[relativePath] ?? null;
  }
  async readGlobalExcludes(): Promise<string | null> {
    this.reads += 1;
    await this.wait();
    return this.globalText;
  }
}

function doc(relativePath: string, scheme = 'file', folder: string | null = FOLDER): GateDocument {
  return { scheme, folder, folderName: 'app', relativePath };
}

/** Decides once (starting the reads), waits for them, decides again. */
async function settledVerdict(gate: WorkspaceFileGate, relativePath: string): Promise<FileGateVerdict> {
  gate.decide(relativePath, doc(relativePath));
  await gate.settled();
  return gate.decide(relativePath, doc(relativePath)).verdict;
}

const TREE: Record<string, string> = {
  '.gitignore': 'dist/\n*.log\n!keep.log\n/local.ts\n',
  '.latencycopilotignore': 'private/\n',
  '.git/info/exclude': 'scratch.ts\n',
  'packages/api/.gitignore': 'generated/\n!global-but-kept.tmp\n',
  'packages/api/src/.latencycopilotignore': 'fixtures.ts\n',
};
const GLOBAL = '*.tmp\n.scratch/\nnotes.md\n';

// [path, verdict once the rules are read]: every source of rules, as git orders them.
const rows: readonly [string, FileGateVerdict][] = [
  ['src/main.ts', 'allowed'],
  ['dist/main.js', 'ignored'],
  ['a/b/debug.log', 'ignored'],
  ['keep.log', 'allowed'],
  ['local.ts', 'ignored'],
  ['src/local.ts', 'allowed'],
  ['private/plan.md', 'ignored'],
  ['scratch.ts', 'ignored'],
  ['packages/api/generated/client.ts', 'ignored'],
  ['packages/generated/client.ts', 'allowed'],
  ['packages/api/src/fixtures.ts', 'ignored'],
  ['packages/api/fixtures.ts', 'allowed'],
  // git's global excludes file: below every .gitignore (a nested `!` re-includes).
  ['x.tmp', 'ignored'],
  ['packages/api/global-but-kept.tmp', 'allowed'],
  ['.scratch/try.ts', 'ignored'],
  ['docs/notes.md', 'ignored'],
  // Secrets by name or folder, and folders the index never enters: decided without reading anything.
  ['.env', 'secret'],
  ['deploy/.kube/config', 'secret'],
  ['.ssh/id_work', 'secret'],
  ['infra/terraform.tfstate.backup', 'secret'],
  ['.config/gh/hosts.yml', 'secret'],
  ['node_modules/dep/index.js', 'vendored'],
  ['.git/config', 'vendored'],
];

describe('WorkspaceFileGate: the verdicts', () => {
  it.each(rows)('%s -> %s', async (path, verdict) => {
    const gate = new WorkspaceFileGate(new FakeDisk(TREE, GLOBAL));
    expect(await settledVerdict(gate, path)).toBe(verdict);
  });

  it('only files on disk inside a workspace folder: untitled buffers, settings and outside files are refused', () => {
    const disk = new FakeDisk(TREE, GLOBAL);
    const gate = new WorkspaceFileGate(disk);
    expect(gate.decide('u', doc('Untitled-1', 'untitled', null)).verdict).toBe('not-a-file');
    expect(gate.decide('s', doc('settings.json', 'vscode-userdata', null)).verdict).toBe('not-a-file');
    expect(gate.decide('k', doc('config', 'file', null)).verdict).toBe('outside-workspace');
    expect(disk.reads).toBe(0);
  });
});

describe('WorkspaceFileGate: cost and caching', () => {
  it('says `loading` at once while the rules are read (never waits), then decides', async () => {
    const disk = new FakeDisk(TREE, GLOBAL);
    disk.hold();
    const gate = new WorkspaceFileGate(disk);
    expect(gate.decide('k', doc('dist/a.js')).verdict).toBe('loading');
    expect(gate.cached('k')).toBeUndefined();
    // Secrets need no rules: decided at once even while reading.
    expect(gate.decide('e', doc('.env')).verdict).toBe('secret');
    disk.release();
    await gate.settled();
    expect(gate.decide('k', doc('dist/a.js')).verdict).toBe('ignored');
  });

  it('reads each ignore file once; a known document costs no read and no rule matching', async () => {
    const disk = new FakeDisk(TREE, GLOBAL);
    let told = 0;
    const gate = new WorkspaceFileGate(disk, () => (told += 1));
    await settledVerdict(gate, 'packages/api/src/a.ts');
    expect(told).toBeGreaterThan(0);
    const readsAfterLoad = disk.reads;
    // global + root (.gitignore, own, info/exclude) + 3 folders x 2 ignore files.
    expect(readsAfterLoad).toBe(1 + 3 + 3 * 2);
    expect(gate.decide('b', doc('packages/api/src/b.ts')).verdict).toBe('allowed');
    expect(gate.cached('b')?.verdict).toBe('allowed');
    expect(gate.cached('b')?.document.relativePath).toBe('packages/api/src/b.ts');
    expect(disk.reads).toBe(readsAfterLoad);
    gate.forget('b');
    expect(gate.cached('b')).toBeUndefined();
  });

  it('an ignore file that changes is read again, and the folder`s verdicts follow it', async () => {
    const disk = new FakeDisk({ ...TREE }, GLOBAL);
    const gate = new WorkspaceFileGate(disk);
    expect(await settledVerdict(gate, 'packages/api/src/new.ts')).toBe('allowed');
    disk.files['packages/api/.gitignore'] = 'src/\n';
    expect(gate.fileChanged(FOLDER, 'packages/api/.gitignore')).toBe(true);
    expect(gate.cached('packages/api/src/new.ts')).toBeUndefined();
    // Until the new rules are read, the answer is `loading`, never the old `allowed`.
    expect(gate.decide('packages/api/src/new.ts', doc('packages/api/src/new.ts')).verdict).toBe('loading');
    await gate.settled();
    expect(gate.decide('packages/api/src/new.ts', doc('packages/api/src/new.ts')).verdict).toBe('ignored');
    // A file that is not an ignore file changes nothing; an ignore file in a folder never read neither.
    expect(gate.fileChanged(FOLDER, 'src/main.ts')).toBe(false);
    expect(gate.fileChanged(FOLDER, 'elsewhere/.gitignore')).toBe(false);
    // .git/info/exclude belongs to the root.
    disk.files['.git/info/exclude'] = 'packages/\n';
    expect(gate.fileChanged(FOLDER, '.git/info/exclude')).toBe(true);
    expect(await settledVerdict(gate, 'packages/other.ts')).toBe('ignored');
  });

  it('a slow read overtaken by a newer one is dropped', async () => {
    const disk = new FakeDisk({ ...TREE }, GLOBAL);
    const gate = new WorkspaceFileGate(disk);
    await settledVerdict(gate, 'src/main.ts');
    disk.hold();
    disk.files['.gitignore'] = 'src/\n';
    gate.fileChanged(FOLDER, '.gitignore');
    disk.release();
    disk.files['.gitignore'] = '';
    gate.fileChanged(FOLDER, '.gitignore');
    await gate.settled();
    expect(gate.decide('m', doc('src/main.ts')).verdict).toBe('allowed');
  });

  it('git`s global excludes file that changes is read again', async () => {
    const disk = new FakeDisk(TREE, '');
    const gate = new WorkspaceFileGate(disk);
    expect(await settledVerdict(gate, 'build.tmp')).toBe('allowed');
    disk.globalText = '*.tmp\n';
    gate.globalExcludesChanged();
    expect(gate.cached('build.tmp')).toBeUndefined();
    expect(await settledVerdict(gate, 'build.tmp')).toBe('ignored');
  });

  it('a reader that fails counts as no ignore file (the verdicts still come)', async () => {
    const failing: FileGateReader = {
      readFolderFile: () => Promise.reject(new Error('EIO')),
      readGlobalExcludes: () => Promise.reject(new Error('EIO')),
    };
    const gate = new WorkspaceFileGate(failing);
    expect(await settledVerdict(gate, 'src/a.ts')).toBe('allowed');
  });
});

describe('one gate: the repository index and the inline gate agree', () => {
  const files: Record<string, string> = {
    ...TREE,
    'src/main.ts': 'export const main = 1;\n',
    'dist/main.js': 'export const built = 1;\n',
    'keep.log': 'kept\n',
    'local.ts': 'export const local = 1;\n',
    'src/local.ts': 'export const srcLocal = 1;\n',
    'private/plan.md': 'plan\n',
    'scratch.ts': 'export const scratch = 1;\n',
    'packages/api/generated/client.ts': 'export const client = 1;\n',
    'packages/api/src/fixtures.ts': 'export const fixtures = 1;\n',
    'packages/api/src/handler.ts': 'export const handler = 1;\n',
    'packages/api/global-but-kept.tmp': 'kept\n',
    'x.tmp': 'tmp\n',
    'docs/notes.md': 'notes\n',
    '.scratch/try.ts': 'export const t = 1;\n',
    'deploy/.kube/config': 'token: LC_SECRET\n',
    'deploy/.docker/config.json': '{"auths":"LC_SECRET"}\n',
    '.aws/config': '[default]\nLC_SECRET\n',
    '.ssh/id_work': 'LC_SECRET\n',
    '.config/gh/hosts.yml': 'oauth_token: LC_SECRET\n',
    'infra/terraform.tfstate.backup': '{"LC_SECRET":1}\n',
  };
  const root = makeTree(files);
  afterAll(() => removeTree(root));

  it('reads no secret, honours git`s global excludes, and indexes exactly what the inline gate allows', async () => {
    const disk = nodeRepoFileSystem(root);
    const readPaths: string[] = [];
    const recording = recordingFileSystem(disk, readPaths);
    const index = new RepoIndex(gatedRepoFileSystem(recording, GLOBAL));
    await index.build();
    expect(
      readPaths.filter(
        (path) =>
          path.includes('.kube') ||
          path.includes('.ssh') ||
          path.includes('.aws') ||
          path.includes('.docker') ||
          path.includes('hosts.yml') ||
          path.includes('tfstate'),
      ),
    ).toEqual([]);

    const gate = new WorkspaceFileGate({
      readFolderFile: async (_folder, path) => {
        const read = await disk.readFile(path, 1024 * 1024);
        return read.kind === 'ok' ? new TextDecoder().decode(read.bytes) : null;
      },
      readGlobalExcludes: () => Promise.resolve(GLOBAL),
    });
    // Every file of the tree: the index holds it exactly when the inline gate allows it (ignore files are text too).
    const disagreements: string[] = [];
    for (const path of Object.keys(files)) {
      const verdict = await settledVerdict(gate, path);
      if (index.isReadable(path) !== (verdict === 'allowed'))
        disagreements.push(`${path}: index ${index.isReadable(path)}, gate ${verdict}`);
    }
    expect(disagreements).toEqual([]);
    expect(index.isReadable('src/main.ts')).toBe(true);
    expect(index.isReadable('x.tmp')).toBe(false);
    expect(index.isReadable('packages/api/global-but-kept.tmp')).toBe(true);
  });

  it('reads ignore files by the index`s own names', () => {
    expect(IGNORE_FILE_NAMES).toEqual(['.gitignore', OWN_IGNORE_FILE]);
  });
});
