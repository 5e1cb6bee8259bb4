// Issue 14, item 1: the repository index never reads through a symbolic link. The first walk always skipped links; a
// link that arrives later (a `git pull`, then a watcher event) used to be followed by `update`, so a harmless-looking
// name put its target (outside the workspace, or a secret inside it) into prompts. Every test here plants real links
// in a temp folder.
import { closeSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContext } from '../../../../src/core/repo/contextPacker';
import { NO_FOLLOW_FLAG, nodeRepoFileSystem, openWithoutFollowing } from '../../../../src/core/repo/nodeRepoFileSystem';
import type { RepoFileRead, RepoFileSystem } from '../../../../src/core/repo/repoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { SECRET_MARKER, makeTree, removeTree } from './repoTestTree';
import { buildReaderScript } from '../../builders/repoFileSystems';

const OUTSIDE_MARKER = 'LC_OUTSIDE_MARKER_19be4d';
const folders: string[] = [];

/** A workspace with ordinary code and a .env, and a folder outside it holding a token file and a kube-like folder. */
function plantWorkspace(): { root: string; outside: string } {
  const root = makeTree({
    '.env': `API_KEY=${SECRET_MARKER}\n`,
    'src/main.ts': 'export function mainEntry(): number {\n  return 1;\n}\n',
    'src/token.ts': 'export function refreshToken(): string {\n  return "token";\n}\n',
    'docs/guide.md': '# Guide\nHow tokens are refreshed.\n',
  });
  const outside = makeTree({
    'hosts.yml': `github.com:\n  oauth_token: ${OUTSIDE_MARKER}\n  token refresh\n`,
    'kube/settings.ts': `export const clusterToken = '${OUTSIDE_MARKER}'; // token refresh\n`,
  });
  folders.push(root, outside);
  return { root, outside };
}

/** Every path the index holds, and every packed prompt text for a query that names what the links hold. */
async function whatReachesAPrompt(index: RepoIndex, fs: RepoFileSystem): Promise<{ paths: string[]; text: string }> {
  const packed = await packContext(
    index,
    fs,
    { query: 'token refresh oauth cluster API_KEY', budgetTokens: 50_000 },
    countTokens,
  );
  return { paths: [...index.files()].map((file) => file.path).sort(), text: packed.text };
}

afterAll(() => {
  for (const folder of folders.splice(0)) removeTree(folder);
});

describe('links added after the first index (a git pull, then watcher events)', () => {
  it('a link to a file outside the workspace, under a harmless name, is not indexed and never reaches a prompt', async () => {
    const { root, outside } = plantWorkspace();
    const fs = nodeRepoFileSystem(root);
    const index = new RepoIndex(fs);
    await index.build();
    symlinkSync(join(outside, 'hosts.yml'), join(root, 'docs', 'ops-notes.md'));
    expect(await index.update('docs/ops-notes.md')).not.toBe('added');
    expect(index.file('docs/ops-notes.md')).toBeUndefined();
    const { paths, text } = await whatReachesAPrompt(index, fs);
    expect(paths).toEqual(['docs/guide.md', 'src/main.ts', 'src/token.ts']);
    expect(text).not.toContain(OUTSIDE_MARKER);
  });

  it('a link to a secret inside the workspace (notes.txt -> .env) is not indexed: the secret check sees the real file', async () => {
    const { root } = plantWorkspace();
    const fs = nodeRepoFileSystem(root);
    const index = new RepoIndex(fs);
    await index.build();
    symlinkSync('.env', join(root, 'notes.txt'));
    expect(await index.update('notes.txt')).not.toBe('added');
    expect(index.isReadable('notes.txt')).toBe(false);
    expect((await whatReachesAPrompt(index, fs)).text).not.toContain(SECRET_MARKER);
  });

  it('a link to a folder (outside, or inside the workspace) is never walked, as a folder or through a path under it', async () => {
    const { root, outside } = plantWorkspace();
    const fs = nodeRepoFileSystem(root);
    const index = new RepoIndex(fs);
    await index.build();
    symlinkSync(join(outside, 'kube'), join(root, 'kube'), 'dir');
    symlinkSync(join(root, 'src'), join(root, 'mirror'), 'dir');
    // The watcher may report the link itself, or files it seems to hold.
    for (const path of ['kube', 'kube/settings.ts', 'mirror', 'mirror/token.ts']) {
      expect(await index.update(path), path).not.toBe('added');
    }
    const { paths, text } = await whatReachesAPrompt(index, fs);
    expect(paths).toEqual(['docs/guide.md', 'src/main.ts', 'src/token.ts']);
    expect(text).not.toContain(OUTSIDE_MARKER);
    // A rescan of the whole tree (a changed root .gitignore) still skips them.
    writeFileSync(join(root, '.gitignore'), '*.log\n');
    expect(await index.update('.gitignore')).toBe('rescanned');
    expect((await whatReachesAPrompt(index, fs)).paths).toEqual([
      '.gitignore',
      'docs/guide.md',
      'src/main.ts',
      'src/token.ts',
    ]);
  });

  it('a file replaced by a link is dropped from the index, and a folder replaced by a link drops everything under it', async () => {
    const { root, outside } = plantWorkspace();
    const fs = nodeRepoFileSystem(root);
    const index = new RepoIndex(fs);
    await index.build();
    rmSync(join(root, 'src', 'token.ts'));
    symlinkSync(join(outside, 'hosts.yml'), join(root, 'src', 'token.ts'));
    expect(await index.update('src/token.ts')).toBe('removed');
    renameSync(join(root, 'docs'), join(root, 'docs-old'));
    symlinkSync(join(outside, 'kube'), join(root, 'docs'), 'dir');
    expect(await index.update('docs')).toBe('removed');
    const { paths, text } = await whatReachesAPrompt(index, fs);
    expect(paths).toEqual(['src/main.ts']);
    expect(text).not.toContain(OUTSIDE_MARKER);
  });
});

describe('every read refuses a link, even one that appears after a check', () => {
  const reads = async (fs: RepoFileSystem, path: string): Promise<RepoFileRead['kind']> => {
    const direct = (await fs.readFile(path, 1024 * 1024)).kind;
    const lent = await fs.lendFile(path, 1024 * 1024, (read) => read.kind);
    expect(lent).toBe(direct);
    return direct;
  };

  it('readFile and lendFile read a link, or a file through a linked folder, as missing', async () => {
    const { root, outside } = plantWorkspace();
    symlinkSync(join(outside, 'hosts.yml'), join(root, 'hosts-link.yml'));
    symlinkSync('.env', join(root, 'notes.txt'));
    symlinkSync(join(outside, 'kube'), join(root, 'kube'), 'dir');
    const fs = nodeRepoFileSystem(root);
    expect(await reads(fs, 'src/main.ts')).toBe('ok');
    expect(await reads(fs, 'hosts-link.yml')).toBe('missing');
    expect(await reads(fs, 'notes.txt')).toBe('missing');
    expect(await reads(fs, 'kube/settings.ts')).toBe('missing');
    expect(await fs.kindOf('kube')).toBe('missing');
    expect(await fs.kindOf('kube/settings.ts')).toBe('missing');
    expect(await fs.kindOf('src/main.ts')).toBe('file');
    expect(await fs.readDirectory('kube')).toEqual([]);
  });

  it('opening refuses a link at the end of the path with O_NOFOLLOW, and without it (Windows) by comparing the file opened', () => {
    const { root, outside } = plantWorkspace();
    symlinkSync(join(outside, 'hosts.yml'), join(root, 'swapped.md'));
    expect(NO_FOLLOW_FLAG).not.toBeNull();
    for (const flag of [NO_FOLLOW_FLAG, null]) {
      expect(openWithoutFollowing(join(root, 'swapped.md'), flag), `flag ${flag}`).toBeNull();
      const descriptor = openWithoutFollowing(join(root, 'src', 'main.ts'), flag);
      expect(descriptor).not.toBeNull();
      if (descriptor !== null) closeSync(descriptor);
    }
  });

  describe('on the reader thread', () => {
    let readerScript = '';
    let disposeReader = (): void => undefined;
    beforeAll(async () => {
      const reader = await buildReaderScript('repo-reader-links-');
      readerScript = reader.script;
      disposeReader = () => reader.dispose();
    }, 60_000);
    afterAll(() => disposeReader());

    it('lendFiles reads listed paths that turned into links (or lie under one) as missing', async () => {
      const { root, outside } = plantWorkspace();
      // Listed by a walk as files, then swapped for links before the read.
      symlinkSync(join(outside, 'hosts.yml'), join(root, 'hosts-link.yml'));
      symlinkSync('.env', join(root, 'notes.txt'));
      symlinkSync(join(outside, 'kube'), join(root, 'kube'), 'dir');
      const fs = nodeRepoFileSystem(root, { readerScript, readAheadMinFiles: 1 });
      const seen: string[] = [];
      const paths = ['src/main.ts', 'hosts-link.yml', 'notes.txt', 'kube/settings.ts', 'src/token.ts'];
      const outcome = await fs.lendFiles?.(paths, 1024 * 1024, (path, read) => {
        seen.push(`${path}:${read.kind}`);
        if (read.kind === 'ok') expect(new TextDecoder().decode(read.bytes)).not.toContain(OUTSIDE_MARKER);
      });
      expect(outcome).toEqual({ readBy: 'reader thread', readerProblem: null });
      expect(seen).toEqual([
        'src/main.ts:ok',
        'hosts-link.yml:missing',
        'notes.txt:missing',
        'kube/settings.ts:missing',
        'src/token.ts:ok',
      ]);
    });

    it('a cold build on the reader thread with links already present holds none of them', async () => {
      const { root, outside } = plantWorkspace();
      symlinkSync(join(outside, 'hosts.yml'), join(root, 'docs', 'ops-notes.md'));
      symlinkSync('.env', join(root, 'notes.txt'));
      symlinkSync(join(outside, 'kube'), join(root, 'kube'), 'dir');
      const fs = nodeRepoFileSystem(root, { readerScript, readAheadMinFiles: 1 });
      const index = new RepoIndex(fs);
      expect((await index.build()).readBy).toBe('reader thread');
      const { paths, text } = await whatReachesAPrompt(index, fs);
      expect(paths).toEqual(['docs/guide.md', 'src/main.ts', 'src/token.ts']);
      expect(text).not.toContain(OUTSIDE_MARKER);
      expect(text).not.toContain(SECRET_MARKER);
    });
  });
});
