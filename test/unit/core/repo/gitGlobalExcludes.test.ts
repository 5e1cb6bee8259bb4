// git's global excludes file (issue 14 item 3): which file git would read, from the same config files git reads.
import { describe, expect, it } from 'vitest';
import { excludesFileFromConfig, readGitGlobalExcludes } from '../../../../src/core/repo/gitGlobalExcludes';
import type { GitConfigEnvironment } from '../../../../src/core/repo/gitGlobalExcludes';

// [config text, core.excludesFile value or null]
const configs: readonly [string, string | null][] = [
  ['[core]\n\texcludesFile = ~/.gitignore_global\n', '~/.gitignore_global'],
  ['[core]\n\texcludesfile=/etc/ignore\n', '/etc/ignore'],
  ['[CORE]\n  ExcludesFile = "/path with spaces/ignore"  # comment\n', '/path with spaces/ignore'],
  ['[core] excludesFile = /same/line\n', '/same/line'],
  ['[core]\n\texcludesFile = /first\n[user]\n\tname = x\n[core]\n\texcludesFile = /second\n', '/second'],
  ['[user]\n\texcludesFile = /not/core\n', null],
  ['[core "sub"]\n\texcludesFile = /subsection\n', null],
  ['[core]\n\t# excludesFile = /commented\n\tautocrlf = input\n', null],
  ['[core]\n\texcludesFile = /a/\\\nb\n', '/a/b'],
  ['[core]\n\texcludesFile = /a/\\\n\tb\n', '/a/ b'],
  ['[core]\n\texcludesFile = "C:\\\\Users\\\\me\\\\ignore" ; windows\n', 'C:\\Users\\me\\ignore'],
  ['[core]\n\texcludesFile =\n', ''],
  ['[core]\r\n\texcludesFile = /crlf\r\n', '/crlf'],
  ['', null],
];

describe('excludesFileFromConfig', () => {
  it.each(configs)('%j -> %j', (text, value) => {
    expect(excludesFileFromConfig(text)).toBe(value);
  });
});

/** A fake disk: path -> text. */
function disk(files: Record<string, string>): (path: string) => Promise<string | null> {
  return (path) => Promise.resolve(files[path] ?? null);
}

describe('readGitGlobalExcludes', () => {
  const env: GitConfigEnvironment = { home: '/home/me' };

  it('reads the default file, ~/.config/git/ignore, when no config names one', async () => {
    const found = await readGitGlobalExcludes(env, disk({ '/home/me/.config/git/ignore': '*.swp\n' }));
    expect(found).toEqual({
      path: '/home/me/.config/git/ignore',
      text: '*.swp\n',
      configPaths: ['/home/me/.config/git/config', '/home/me/.gitconfig'],
    });
  });

  it('uses $XDG_CONFIG_HOME for both the config and the default file', async () => {
    const xdg = { ...env, xdgConfigHome: '/xdg' };
    expect((await readGitGlobalExcludes(xdg, disk({ '/xdg/git/ignore': 'a\n' }))).text).toBe('a\n');
    const named = await readGitGlobalExcludes(
      xdg,
      disk({ '/xdg/git/config': '[core]\nexcludesFile = ~/ig\n', '/home/me/ig': 'b\n' }),
    );
    expect(named).toMatchObject({ path: '/home/me/ig', text: 'b\n' });
    // An empty XDG_CONFIG_HOME is unset, as in git.
    expect(
      (await readGitGlobalExcludes({ ...env, xdgConfigHome: '' }, disk({ '/home/me/.config/git/ignore': 'c\n' }))).text,
    ).toBe('c\n');
  });

  it('~/.gitconfig wins over the XDG config (git reads it later)', async () => {
    const found = await readGitGlobalExcludes(
      env,
      disk({
        '/home/me/.config/git/config': '[core]\nexcludesFile = /from-xdg\n',
        '/home/me/.gitconfig': '[core]\nexcludesFile = ~/.gitignore_global\n',
        '/home/me/.gitignore_global': '.idea/\n',
        '/from-xdg': 'wrong\n',
      }),
    );
    expect(found).toMatchObject({ path: '/home/me/.gitignore_global', text: '.idea/\n' });
  });

  it('reads only $GIT_CONFIG_GLOBAL when it is set', async () => {
    const found = await readGitGlobalExcludes(
      { ...env, gitConfigGlobal: '/etc/my-git' },
      disk({
        '/etc/my-git': '[core]\nexcludesFile = /g\n',
        '/home/me/.gitconfig': '[core]\nexcludesFile = /wrong\n',
        '/g': 'g\n',
      }),
    );
    expect(found).toEqual({ path: '/g', text: 'g\n', configPaths: ['/etc/my-git'] });
  });

  it('an empty value means no excludes file; a missing file means no patterns; read errors count as missing', async () => {
    expect(
      await readGitGlobalExcludes(
        env,
        disk({ '/home/me/.gitconfig': '[core]\nexcludesFile =\n', '/home/me/.config/git/ignore': 'x\n' }),
      ),
    ).toMatchObject({ text: null });
    expect((await readGitGlobalExcludes(env, disk({}))).text).toBeNull();
    const failing = (): Promise<string | null> => Promise.reject(new Error('EACCES'));
    expect((await readGitGlobalExcludes(env, failing)).text).toBeNull();
  });
});
