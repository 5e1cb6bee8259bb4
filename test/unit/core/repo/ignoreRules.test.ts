import { describe, expect, it } from 'vitest';
import { compileIgnoreFile, IgnoreRules, matchPatterns } from '../../../../src/core/repo/ignoreRules';
import { exclusionByContent, exclusionByName, isSecretFileName } from '../../../../src/core/repo/fileSafety';

// [patterns, path, isDirectory, expected verdict] — verdicts checked against git's documented behaviour (gitignore(5)).
const table: readonly [string, string, boolean, 'ignored' | 'included' | null][] = [
  ['*.log', 'debug.log', false, 'ignored'],
  ['*.log', 'deep/dir/debug.log', false, 'ignored'],
  ['*.log\n!keep.log', 'keep.log', false, 'included'],
  ['*.log\n!keep.log', 'a/keep.log', false, 'included'],
  ['!keep.log\n*.log', 'keep.log', false, 'ignored'],
  ['build/', 'build', true, 'ignored'],
  ['build/', 'build', false, null],
  ['build/', 'src/build', true, 'ignored'],
  ['/build', 'build', true, 'ignored'],
  ['/build', 'src/build', true, null],
  ['doc/frotz', 'doc/frotz', false, 'ignored'],
  ['doc/frotz', 'a/doc/frotz', false, null],
  ['foo/*', 'foo/test.json', false, 'ignored'],
  ['foo/*', 'foo/bar/hello.c', false, null],
  ['**/foo', 'foo', false, 'ignored'],
  ['**/foo', 'a/b/foo', true, 'ignored'],
  ['**/foo/bar', 'x/foo/bar', false, 'ignored'],
  ['abc/**', 'abc/x/y.txt', false, 'ignored'],
  ['abc/**', 'abc', true, null],
  ['a/**/b', 'a/b', false, 'ignored'],
  ['a/**/b', 'a/x/y/b', false, 'ignored'],
  ['a/**/b', 'ab/b', false, null],
  ['?.txt', 'a.txt', false, 'ignored'],
  ['?.txt', 'ab.txt', false, null],
  ['[abc].ts', 'b.ts', false, 'ignored'],
  ['[!abc].ts', 'b.ts', false, null],
  ['[a-c]x', 'bx', false, 'ignored'],
  ['# comment\n\n  \n*.tmp', 'x.tmp', false, 'ignored'],
  ['\\#hash', '#hash', false, 'ignored'],
  ['\\!bang', '!bang', false, 'ignored'],
  ['trailing   ', 'trailing', false, 'ignored'],
  ['*.c', 'src/x.cc', false, null],
  ['a*b', 'a/b', false, null],
  ['file.txt\r', 'file.txt', false, 'ignored'],
];

describe('gitignore patterns (table)', () => {
  it.each(table)('%j matches %s (dir=%s) -> %s', (patterns, path, isDirectory, expected) => {
    expect(matchPatterns(compileIgnoreFile(patterns), path, isDirectory)).toBe(expected);
  });
});

describe('IgnoreRules across nested ignore files', () => {
  const rules = new IgnoreRules();
  rules.add('', compileIgnoreFile('*.log\nsecret-dir/\n'));
  rules.add('pkg', compileIgnoreFile('!important.log\n/local.ts\n'));
  it('a deeper file overrides a shallower one', () => {
    expect(rules.isIgnored('pkg/important.log', false)).toBe(false);
    expect(rules.isIgnored('pkg/other.log', false)).toBe(true);
  });
  it('anchors a nested pattern to its own directory', () => {
    expect(rules.isIgnored('pkg/local.ts', false)).toBe(true);
    expect(rules.isIgnored('pkg/deeper/local.ts', false)).toBe(false);
    expect(rules.isIgnored('local.ts', false)).toBe(false);
  });
  it('sees ignored ancestors for paths met outside a walk', () => {
    expect(rules.isIgnored('secret-dir/a.ts', false)).toBe(false);
    expect(rules.isIgnoredWithAncestors('secret-dir/a.ts', false)).toBe(true);
  });
});

describe('file safety', () => {
  // prettier-ignore
  const secretNames: readonly (readonly [string, boolean])[] = [
    ['.env', true], ['.env.local', true], ['.env.production', true], ['prod.env', true], ['.envrc', true],
    ['id_rsa', true], ['id_rsa.pub', true], ['id_ed25519', true], ['server.pem', true], ['tls.key', true],
    ['cert.p12', true], ['credentials.json', true], ['credentials', true], ['.netrc', true], ['.npmrc', true],
    ['secrets.yaml', true], ['app-credentials.json', true], ['.git-credentials', true],
    ['secrets.ts', false], ['secretStorage.ts', false], ['environment.ts', false], ['keyboard.ts', false], ['README.md', false],
  ];
  it.each(secretNames)('%s is a secret: %s', (name, expected) => {
    expect(isSecretFileName(name)).toBe(expected);
  });

  it('excludes lockfiles, binaries, minified files and large files by name and size', () => {
    expect(exclusionByName('package-lock.json', 10, 1_000)).toBe('lockfile');
    expect(exclusionByName('Cargo.lock', 10, 1_000)).toBe('lockfile');
    expect(exclusionByName('logo.png', 10, 1_000)).toBe('binary');
    expect(exclusionByName('app.min.js', 10, 1_000)).toBe('minified');
    expect(exclusionByName('index.js.map', 10, 1_000)).toBe('minified');
    expect(exclusionByName('main.ts', 1_001, 1_000)).toBe('too-large');
    expect(exclusionByName('main.ts', 1_000, 1_000)).toBeNull();
  });

  it('sniffs binaries and minified code from content', () => {
    expect(exclusionByContent(new Uint8Array([65, 66, 0, 67]))).toBe('binary');
    expect(exclusionByContent(new TextEncoder().encode('var a=1;'.repeat(1_000)))).toBe('minified');
    expect(exclusionByContent(new TextEncoder().encode('const a = 1;\n'.repeat(1_000)))).toBeNull();
    const text = (value: string): Uint8Array => new TextEncoder().encode(value);
    // Only the first 8 KB are sniffed: a NUL or a long line after them does not count.
    expect(exclusionByContent(text(`${'const a = 1;\n'.repeat(700)}\0`))).toBeNull();
    expect(exclusionByContent(text(`${'const a = 1;\n'.repeat(700)}${'x'.repeat(5_000)}`))).toBeNull();
    // One line of 2,000 characters among short ones; lines of 350 characters on average; the last line counts too.
    expect(
      exclusionByContent(text(`${'const a = 1;\n'.repeat(50)}${'x'.repeat(2_000)}\n${'const a = 1;\n'.repeat(50)}`)),
    ).toBe('minified');
    expect(exclusionByContent(text(`${'y'.repeat(349)}\n`.repeat(20)))).toBe('minified');
    expect(exclusionByContent(text(`${'y'.repeat(249)}\n`.repeat(20)))).toBeNull();
    expect(exclusionByContent(text(`${'const a = 1;\n'.repeat(10)}${'x'.repeat(2_500)}`))).toBe('minified');
  });
});
