import { describe, expect, it } from 'vitest';
import { mayNameFile } from '../../../../src/core/repo/repoIndex';
import { outlineSource, resolveImport } from '../../../../src/core/repo/sourceOutline';

describe('outlineSource', () => {
  it('finds TypeScript declarations and imports, not nested code', () => {
    const text =
      "import { a } from './a';\nexport type Id = string;\nexport async function load() {\n  function inner() {}\n}\nclass Box {}\n";
    const outline = outlineSource(text, 'src/x.ts');
    expect(outline.symbols.map((s) => `${s.kind} ${s.name} ${s.line}`)).toEqual([
      'type Id 1',
      'function load 2',
      'class Box 5',
    ]);
    expect(outline.imports).toEqual(['./a']);
  });
  it('finds Python classes, methods and imports', () => {
    const text =
      'from .models import User\nimport os.path\n\nclass Store:\n    def save(self):\n        def helper():\n            pass\n';
    const outline = outlineSource(text, 'pkg/store.py');
    expect(outline.symbols.map((s) => `${s.kind} ${s.name}`)).toEqual(['class Store', 'def save']);
    expect(outline.imports).toEqual(['.models', 'os.path']);
  });
  it('finds Go and Rust declarations', () => {
    expect(
      outlineSource('func (s *Server) Serve() {}\ntype Config struct {\n', 'main.go').symbols.map((s) => s.name),
    ).toEqual(['Serve', 'Config']);
    expect(outlineSource('pub fn parse() {}\nimpl<T> Stack {\n', 'lib.rs').symbols.map((s) => s.name)).toEqual([
      'parse',
      'Stack',
    ]);
  });
  it('works on UTF-8 bytes: line numbers count lines, not bytes; only lines under 300 characters are read', () => {
    // Non-ASCII text before a declaration, a tab-indented Python method, a long line of 250 two-byte characters (over
    // 300 bytes, under 300 characters: still a candidate) and one of 300 ASCII characters (not one).
    const text = [
      '# café, déjà vu, 日本語',
      'class Café:',
      '\tdef naïve(self):',
      `def long(x="${'é'.repeat(250)}"): pass`,
      `def too_long(x="${'a'.repeat(300)}"): pass`,
      'def last(): pass',
    ].join('\n');
    const outline = outlineSource(text, 'x.py');
    expect(outline.symbols.map((s) => `${s.kind} ${s.name} ${s.line}`)).toEqual([
      'class Caf 1',
      'def na 2',
      'def long 3',
      'def last 5',
    ]);
  });
  it('gives Markdown no symbols', () => {
    expect(outlineSource('class Not A Declaration\n', 'README.md').symbols).toEqual([]);
  });
});

describe('resolveImport', () => {
  const files = new Set(['src/a.ts', 'src/lib/index.ts', 'pkg/models.py', 'pkg/__init__.py', 'include/util.h']);
  const has = (path: string): boolean => files.has(path);
  it.each([
    ['src/b.ts', './a', 'src/a.ts'],
    ['src/b.ts', './a.js', 'src/a.ts'],
    ['src/deep/c.ts', '../lib', 'src/lib/index.ts'],
    ['src/b.ts', 'react', null],
    ['pkg/store.py', '.models', 'pkg/models.py'],
    ['pkg/sub/x.py', '..models', 'pkg/models.py'],
    ['main.c', 'include/util.h', 'include/util.h'],
    ['src/b.ts', '../../outside', null],
  ])('%s imports %s -> %s', (from, specifier, expected) => {
    expect(resolveImport(from, specifier, has)).toBe(expected);
  });
});

describe('mayNameFile (the pre-filter of reverse import neighbours)', () => {
  // prettier-ignore
  const paths = [
    'src/a.ts', 'src/lib/index.ts', 'src/index.ts', 'pkg/models.py', 'pkg/__init__.py', 'pkg/sub/__init__.py', 'include/util.h',
    'src/types.d.ts', 'src/x.tsx', 'pkg/models/__init__.py', 'src/deep/c.ts', 'lib/foo.bar.js',
  ];
  const importers = ['src/b.ts', 'src/deep/c.ts', 'src/lib/d.ts', 'pkg/store.py', 'pkg/sub/x.py', 'main.c', 'lib/e.js'];
  // prettier-ignore
  const specifiers = [
    './a', './a.js', '../a', '..', '.', './', '../..', './lib', './lib/', '../lib/index.js', './types', './x', './x.js', '.models',
    '..models', '.', '..sub', 'pkg.models', 'include/util.h', 'util.h', './deep/c', '../index', './foo.bar', './foo.bar.js',
    './lib/..', 'react', 'os.path',
  ];
  it('never rules out a specifier that resolves to the file', () => {
    let resolved = 0;
    for (const path of paths) {
      const mayName = mayNameFile(path);
      for (const from of importers) {
        for (const specifier of specifiers) {
          if (resolveImport(from, specifier, (candidate) => candidate === path) === null) continue;
          resolved += 1;
          expect(mayName(specifier), `${from} imports ${specifier} -> ${path}`).toBe(true);
        }
      }
    }
    // The table exercises the filter: many pairs resolve.
    expect(resolved).toBeGreaterThan(20);
  });
  it('rules out specifiers that name neither the stem nor the directory', () => {
    expect(mayNameFile('src/rateLimiter.ts')('./main')).toBe(false);
    expect(mayNameFile('src/lib/index.ts')('./other')).toBe(false);
    expect(mayNameFile('src/rateLimiter.ts')('./rateLimiter.js')).toBe(true);
  });
});
