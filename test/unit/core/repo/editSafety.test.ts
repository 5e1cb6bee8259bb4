// Issue 14, item 2: which edits proposed by the model a repository refactor may offer. The path's text was all that was
// checked: an edit through an in-repo link (`cfg -> .git`), a case variant (`.GIT/config`), and files the model was
// never shown (`.vscode/tasks.json`, workflows, hooks, lockfiles, files over the size limit) all reached the preview
// in the proposal's group.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packContext } from '../../../../src/core/repo/contextPacker';
import {
  admitEdit,
  editAdmitter,
  protectedReason,
  type EditScope,
  type EditTargetFacts,
} from '../../../../src/core/repo/editSafety';
import { isSkippedDirectory } from '../../../../src/core/repo/fileSafety';
import { nodeEditTargets } from '../../../../src/core/repo/nodeEditTargets';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import { describeProblems, parseProposedEdits } from '../../../../src/core/repo/repoEditFormat';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { editScopeOf } from '../../../../src/core/repo/repoTask';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { SECRET_MARKER, makeTree, removeTree } from './repoTestTree';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders.splice(0)) removeTree(folder);
});

const file = (sizeBytes = 100): EditTargetFacts => ({ kind: 'file', sizeBytes, reachedDirectly: true });
const missing: EditTargetFacts = { kind: 'missing', sizeBytes: 0, reachedDirectly: true };

function scopeOf(
  request: string,
  shown: readonly string[] = ['src/a.ts', 'README.md', '.github/workflows/ci.yml'],
): EditScope {
  return { request, shownFiles: new Set(shown), isIgnored: (path) => path.startsWith('build/'), maxFileBytes: 1_000 };
}

describe('admitEdit (pure)', () => {
  it.each([
    // path, change, facts, request, verdict, words of the reason
    ['src/a.ts', 'modify', file(), 'rename add', 'allowed', ''],
    ['cfg/config', 'modify', { ...file(), reachedDirectly: false }, 'rename add', 'refused', 'symbolic link'],
    [
      'cfg/new.ts',
      'create',
      { ...missing, reachedDirectly: false },
      'create cfg/new.ts',
      'refused',
      'outside the workspace',
    ],
    [
      'notes.txt',
      'modify',
      { kind: 'link', sizeBytes: 0, reachedDirectly: true },
      'rename add',
      'refused',
      'is a symbolic link',
    ],
    [
      'src',
      'modify',
      { kind: 'other', sizeBytes: 0, reachedDirectly: true },
      'rename add',
      'refused',
      'not a regular file',
    ],
    ['.env', 'modify', file(), 'rename add', 'refused', 'holds secrets'],
    ['config/prod.env', 'create', missing, 'create config/prod.env', 'refused', 'holds secrets'],
    ['ops/.aws/config', 'modify', file(), 'rename add', 'refused', 'holds secrets'],
    ['node_modules/dep/index.js', 'modify', file(), 'rename add', 'refused', 'inside node_modules/'],
    ['NODE_MODULES/dep/index.js', 'modify', file(), 'rename add', 'refused', 'inside NODE_MODULES/'],
    ['Vendor/lib.php', 'modify', file(), 'rename add', 'refused', 'inside Vendor/'],
    ['build/out.js', 'modify', file(), 'rename add', 'refused', 'is ignored'],
    ['src/a.ts', 'modify', file(5_000), 'rename add', 'refused', 'larger than the size limit'],
    ['src/unseen.ts', 'modify', file(), 'rename add', 'refused', 'not shown to the model'],
    ['.git./config', 'modify', file(), 'rename add', 'refused', 'ending in a dot or a space'],
    ['src/a.ts:hidden', 'create', missing, 'create src/a.ts:hidden', 'refused', 'colon'],
    // Protected: offered only on a tick of their own, whatever the request says.
    ['.git/config', 'modify', file(), 'rename add', 'needs-tick', 'core.fsmonitor'],
    ['.GIT/config', 'create', missing, 'rename add', 'needs-tick', 'core.fsmonitor'],
    ['sub/.git/hooks/pre-commit', 'create', missing, 'rename add', 'needs-tick', 'hooks'],
    ['.vscode/tasks.json', 'create', missing, 'create .vscode/tasks.json', 'needs-tick', 'tasks'],
    ['.github/workflows/ci.yml', 'modify', file(), 'rename add', 'needs-tick', 'workflows'],
    ['.GitHub/workflows/release.yml', 'create', missing, 'add a release workflow', 'needs-tick', 'not shown'],
    ['.husky/pre-push', 'create', missing, 'rename add', 'needs-tick', 'hooks'],
    ['vendored/.git', 'modify', file(), 'rename add', 'needs-tick', 'where the repository'],
    ['.devcontainer/devcontainer.json', 'modify', file(), 'rename add', 'needs-tick', 'dev containers'],
    ['package-lock.json', 'modify', file(), 'rename add', 'needs-tick', 'lockfile'],
    ['sub/Cargo.lock', 'modify', file(), 'rename add', 'needs-tick', 'lockfile'],
    // New files: only where the request asked for them.
    ['src/extra.ts', 'create', missing, 'rename acquire to tryAcquire', 'refused', 'did not ask for'],
    ['src/helpers.ts', 'create', missing, 'extract the parsing into a helper module', 'allowed', ''],
    ['lib/helpers.ts', 'create', missing, 'extract the parsing into a helper module', 'refused', 'did not ask for'],
    ['lib/helpers.ts', 'create', missing, 'move parse() into lib/helpers.ts', 'allowed', ''],
    ['deep/new/strings.ts', 'create', missing, 'put the string helpers in strings.ts', 'allowed', ''],
    ['deep/new/strings.ts', 'create', missing, 'put the string helpers in strings.tsx', 'refused', 'did not ask for'],
    ['deep/new/strings.ts', 'create', missing, 'put the string helpers in oldstrings.ts', 'refused', 'did not ask for'],
    ['.eslintrc.json', 'create', missing, 'add a lint configuration', 'refused', 'did not ask for'],
    ['.eslintrc.json', 'create', missing, 'add .eslintrc.json with the recommended rules', 'allowed', ''],
  ] as const)('%s (%s; %o; request "%s")', (path, change, facts, request, verdict, words) => {
    const admission = admitEdit(path, change, facts, scopeOf(request));
    expect(admission.kind).toBe(verdict);
    if (admission.kind !== 'allowed') {
      expect(admission.reason.startsWith(path)).toBe(true);
      expect(admission.reason).toContain(words);
    }
  });

  it('compares protected and skipped folders in any case', () => {
    expect(protectedReason('.GIT/config')).toBe(protectedReason('.git/config'));
    expect(protectedReason('.VsCode/settings.json')).not.toBeNull();
    expect(protectedReason('src/git/config.ts')).toBeNull();
    expect(isSkippedDirectory('.GIT')).toBe(true);
    expect(isSkippedDirectory('Node_Modules')).toBe(true);
    expect(isSkippedDirectory('PODS')).toBe(true);
    expect(isSkippedDirectory('src')).toBe(false);
  });
});

describe('nodeEditTargets (a real folder with real links)', () => {
  const root = makeTree({
    '.env': `API_KEY=${SECRET_MARKER}\n`,
    '.git/config': '[core]\n\tbare = false\n',
    'src/a.ts': 'export const a = 1;\n',
  });
  const outside = makeTree({ 'kube/config': 'token: x\n' });
  folders.push(root, outside);
  symlinkSync('.git', join(root, 'cfg'), 'dir');
  symlinkSync(join(outside, 'kube'), join(root, 'kube'), 'dir');
  symlinkSync('.env', join(root, 'notes.txt'));
  const inspector = nodeEditTargets(root);

  it.each([
    ['src/a.ts', { kind: 'file', sizeBytes: 20, reachedDirectly: true }],
    ['src/new/deeper/b.ts', { kind: 'missing', sizeBytes: 0, reachedDirectly: true }],
    ['b.ts', { kind: 'missing', sizeBytes: 0, reachedDirectly: true }],
    ['cfg/config', { kind: 'file', sizeBytes: 21, reachedDirectly: false }],
    ['cfg/hooks/pre-commit', { kind: 'missing', sizeBytes: 0, reachedDirectly: false }],
    ['kube/config', { kind: 'file', sizeBytes: 9, reachedDirectly: false }],
    ['kube/new/file.ts', { kind: 'missing', sizeBytes: 0, reachedDirectly: false }],
    ['notes.txt', { kind: 'link', sizeBytes: 0, reachedDirectly: true }],
    ['cfg', { kind: 'link', sizeBytes: 0, reachedDirectly: true }],
    ['src', { kind: 'other', sizeBytes: 0, reachedDirectly: true }],
  ] as const)('%s', async (path, facts) => {
    expect(await inspector.inspect(path)).toEqual(facts);
  });
});

describe('a refactor answer judged against a real workspace and the prompt that was sent', () => {
  it('offers only edits to shown files; links, unshown and unasked files are refused; protected files need a tick', async () => {
    const root = makeTree({
      '.env': `API_KEY=${SECRET_MARKER}\n`,
      '.git/config': '[core]\n\tbare = false\n',
      '.github/workflows/ci.yml': 'name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n',
      'package-lock.json': '{"lockfileVersion": 3}\n',
      'web/app.min.js': 'var limiter=1;',
      'src/limiter.ts': 'export class RateLimiter {\n  acquire(): boolean {\n    return true;\n  }\n}\n',
      'src/app.ts': "import { RateLimiter } from './limiter';\n\nnew RateLimiter().acquire();\n",
    });
    folders.push(root);
    symlinkSync('.git', join(root, 'cfg'), 'dir');
    symlinkSync('.env', join(root, 'notes.txt'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'guide.md'), '# Guide\n');
    const fs = nodeRepoFileSystem(root);
    const index = new RepoIndex(fs);
    await index.build();
    const request = 'rename acquire to tryAcquire';
    const packed = await packContext(index, fs, { query: request, budgetTokens: 20_000 }, countTokens);
    expect(new Set(packed.sections.map((section) => section.path))).toEqual(
      new Set(['src/limiter.ts', 'src/app.ts', '.github/workflows/ci.yml', 'docs/guide.md']),
    );
    const block = (path: string, search: string, replace: string): string[] => [
      `### FILE: ${path}`,
      '<<<<<<< SEARCH',
      ...(search === '' ? [] : [search]),
      '=======',
      replace,
      '>>>>>>> REPLACE',
    ];
    const answer = [
      'Renamed acquire.',
      ...block('src/limiter.ts', '  acquire(): boolean {', '  tryAcquire(): boolean {'),
      ...block('src/app.ts', 'new RateLimiter().acquire();', 'new RateLimiter().tryAcquire();'),
      ...block('cfg/config', '\tbare = false', '\tbare = false\n\tfsmonitor = ./run-me.sh'),
      ...block('notes.txt', `API_KEY=${SECRET_MARKER}`, 'API_KEY=leaked'),
      ...block('.GIT/config', '', '[core]\n\tfsmonitor = ./run-me.sh'),
      ...block(
        '.vscode/tasks.json',
        '',
        '{"version":"2.0.0","tasks":[{"label":"x","command":"./run-me.sh","runOptions":{"runOn":"folderOpen"}}]}',
      ),
      ...block('.github/workflows/ci.yml', 'name: ci', 'name: ci-renamed'),
      ...block('package-lock.json', '{"lockfileVersion": 3}', '{"lockfileVersion": 3, "x": 1}'),
      ...block('web/app.min.js', 'var limiter=1;', 'var limiter=2;'),
      ...block('src/extra.ts', '', 'export const extra = 1;'),
    ].join('\n');
    const read: string[] = [];
    const result = await parseProposedEdits(answer, {
      // As the extension reads a file to edit (vscode.workspace.fs follows links): only what the rules admitted.
      readText: async (path) => {
        read.push(path);
        try {
          return readFileSync(join(root, path), 'utf8');
        } catch {
          return null;
        }
      },
      admit: editAdmitter(nodeEditTargets(root), editScopeOf(index, packed, request)),
    });
    if (!result.ok) throw new Error(describeProblems(result.problems));
    const offered = Object.fromEntries(
      result.edits.map((edit) => [edit.path, edit.needsTick === null ? 'in the proposal' : 'on its own tick']),
    );
    expect(offered).toEqual({
      'src/limiter.ts': 'in the proposal',
      'src/app.ts': 'in the proposal',
      '.GIT/config': 'on its own tick',
      '.vscode/tasks.json': 'on its own tick',
      '.github/workflows/ci.yml': 'on its own tick',
      'package-lock.json': 'on its own tick',
    });
    expect(Object.fromEntries(result.refused.map((refusal) => [refusal.path, refusal.reason]))).toEqual({
      'cfg/config': expect.stringContaining('symbolic link'),
      'notes.txt': expect.stringContaining('is a symbolic link'),
      'web/app.min.js': expect.stringContaining('not shown to the model'),
      'src/extra.ts': expect.stringContaining('did not ask for'),
    });
    // Nothing refused was read (the link to .env above all).
    expect(read.filter((path) => result.refused.some((refusal) => refusal.path === path))).toEqual([]);
  });
});
