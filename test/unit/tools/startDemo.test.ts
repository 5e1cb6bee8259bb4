import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shownSuggestion } from '../../../src/core/inline/suggestionText';
import {
  codeServerDemoUrl,
  DEMO_FILE,
  listFiles,
  settingsWithDefaults,
  syncDemoWorkspace,
  typingCursor,
} from '../../../src/tools/startDemo';
import { PROJECT_ROOT } from '../projectRoot';

const demoRoot = join(PROJECT_ROOT, 'demo');
const exampleText = readFileSync(join(demoRoot, DEMO_FILE), 'utf8');

/** The offset of a 1-based line and column in `text`. */
function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  return lines.slice(0, line - 1).reduce((sum, current) => sum + current.length + 1, 0) + column - 1;
}

describe('codeServerDemoUrl', () => {
  it('opens the folder and the file at the cursor, and survives spaces and # in paths', () => {
    const folder = '/home/a b/#cache/demo-workspace';
    const file = `${folder}/example.ts`;
    const url = codeServerDemoUrl({ authority: '127.0.0.1:8799', folder, file, cursor: { line: 21, column: 3 } });
    expect(url.startsWith('http://127.0.0.1:8799/?folder=/home/a%20b/%23cache/demo-workspace&payload=')).toBe(true);
    // Readable where a query allows it; brackets and quotes stay encoded so terminals keep the address whole.
    expect(url).toContain(',%22vscode-remote://127.0.0.1:8799/home/a%2520b/%2523cache/');
    expect(url).not.toMatch(/[[\]"\s]/);
    const parsed = new URL(url);
    expect(parsed.searchParams.get('folder')).toBe(folder);
    const payload: unknown = JSON.parse(parsed.searchParams.get('payload') ?? 'null');
    expect(payload).toEqual([
      ['openFile', 'vscode-remote://127.0.0.1:8799/home/a%20b/%23cache/demo-workspace/example.ts:21:3'],
      ['gotoLineMode', 'true'],
    ]);
    // VS Code parses the URI and reads `:line:column` off its decoded path.
    const openFile = new URL((payload as string[][])[0]?.[1] ?? '');
    expect(openFile.host).toBe('127.0.0.1:8799');
    expect(decodeURIComponent(openFile.pathname)).toBe(`${file}:21:3`);
  });
});

describe('settingsWithDefaults', () => {
  const defaults = { 'a.one': 1, 'b.two': 'hidden' };

  it('writes every default for a new profile', () => {
    expect(JSON.parse(settingsWithDefaults(null, defaults) ?? 'null')).toEqual(defaults);
  });

  it("adds only missing keys and keeps the person's values", () => {
    const written = settingsWithDefaults('{ "a.one": 5, "mine": true }', defaults);
    expect(JSON.parse(written ?? 'null')).toEqual({ 'a.one': 5, mine: true, 'b.two': 'hidden' });
  });

  it('writes nothing when every key is there, or when the file has comments (edited by hand)', () => {
    expect(settingsWithDefaults('{ "a.one": 5, "b.two": "visible" }', defaults)).toBeNull();
    expect(settingsWithDefaults('{\n  // mine\n  "a.one": 5\n}', defaults)).toBeNull();
    expect(settingsWithDefaults('[]', defaults)).toBeNull();
  });
});

describe('typingCursor', () => {
  it('puts the cursor at the end of the first line holding only indentation', () => {
    expect(typingCursor('a {\n\n    \n}\n')).toEqual({ line: 3, column: 5 });
    expect(typingCursor('a {\r\n\t\r\n}')).toEqual({ line: 2, column: 2 });
  });

  it('falls back to the end of the file', () => {
    expect(typingCursor('const a = 1;\nconst b')).toEqual({ line: 2, column: 8 });
    expect(typingCursor('const a = 1;\n')).toEqual({ line: 2, column: 1 });
  });

  it('lands inside the half-written formatDuration of the shipped example.ts', () => {
    const { line, column } = typingCursor(exampleText);
    const lines = exampleText.split('\n');
    expect(lines[line - 2]).toBe('export function formatDuration(ms: number): string {');
    expect(column).toBe(3);
  });
});

describe('syncDemoWorkspace', () => {
  let root: string;
  let source: string;
  let target: string;
  let record: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lc-demo-sync-'));
    source = join(root, 'shipped');
    target = join(root, 'cache', 'demo-workspace');
    record = join(root, 'cache', 'demo-workspace.shipped.json');
    mkdirSync(join(source, 'src'), { recursive: true });
    mkdirSync(join(source, '.vscode'), { recursive: true });
    writeFileSync(join(source, 'example.ts'), 'shipped example v1\n');
    writeFileSync(join(source, 'src', 'lib.ts'), 'shipped lib v1\n');
    writeFileSync(join(source, '.vscode', 'settings.json'), '{}\n');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('copies everything into an empty cache, dot folders included, and nothing the second time', () => {
    expect(syncDemoWorkspace(source, target, record)).toEqual({
      added: ['.vscode/settings.json', 'example.ts', 'src/lib.ts'],
      updated: [],
      kept: [],
    });
    expect(listFiles(target)).toEqual(['.vscode/settings.json', 'example.ts', 'src/lib.ts']);
    expect(readFileSync(join(target, 'src', 'lib.ts'), 'utf8')).toBe('shipped lib v1\n');
    expect(syncDemoWorkspace(source, target, record)).toEqual({ added: [], updated: [], kept: [] });
  });

  it("keeps the person's edits, updates files nobody edited, and brings back deleted ones", () => {
    syncDemoWorkspace(source, target, record);
    writeFileSync(join(target, 'example.ts'), 'my own work\n');
    rmSync(join(target, '.vscode', 'settings.json'));
    writeFileSync(join(target, 'notes.md'), 'mine\n');
    writeFileSync(join(source, 'example.ts'), 'shipped example v2\n');
    writeFileSync(join(source, 'src', 'lib.ts'), 'shipped lib v2\n');

    expect(syncDemoWorkspace(source, target, record)).toEqual({
      added: ['.vscode/settings.json'],
      updated: ['src/lib.ts'],
      kept: ['example.ts'],
    });
    expect(readFileSync(join(target, 'example.ts'), 'utf8')).toBe('my own work\n');
    expect(readFileSync(join(target, 'src', 'lib.ts'), 'utf8')).toBe('shipped lib v2\n');
    expect(readFileSync(join(target, 'notes.md'), 'utf8')).toBe('mine\n');
    // Still the person's on the next start: the record holds what was copied, not what is there now.
    expect(syncDemoWorkspace(source, target, record).kept).toEqual(['example.ts']);
  });

  it('without a record (or with a damaged one) replaces nothing that differs', () => {
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'example.ts'), 'older text of unknown origin\n');
    mkdirSync(join(root, 'cache'), { recursive: true });
    writeFileSync(record, '{ not json');
    expect(syncDemoWorkspace(source, target, record).kept).toEqual(['example.ts']);
    expect(readFileSync(join(target, 'example.ts'), 'utf8')).toBe('older text of unknown origin\n');
  });

  it('replaces the one-line example.ts that earlier versions of npm start wrote', () => {
    mkdirSync(target, { recursive: true });
    writeFileSync(
      join(target, 'example.ts'),
      '// Type below: ghost text streams from the simulated burst backend; the status bar shows its tokens/s.\n' +
        '// Select code and run "Latency Copilot: Refactor Selection…" from the command palette.\n\n' +
        'export function parseDuration(text: string): number {\n',
    );
    expect(syncDemoWorkspace(source, target, record).updated).toEqual(['example.ts']);
    expect(readFileSync(join(target, 'example.ts'), 'utf8')).toBe('shipped example v1\n');
  });
});

describe('the shipped demo workspace', () => {
  it('says in its first two lines that the backend is simulated and how to try it', () => {
    const [first = '', second = ''] = exampleText.split('\n');
    expect(first).toMatch(/^\/\/ SIMULATED backend, no real model/);
    expect(second).toMatch(/^\/\/ Try: type `if` at the cursor, Tab.*Refactor Selection.*Model Speed/);
  });

  it('turns the Model Speed panel on for its window, and keeps the suggestion list off the ghost text', () => {
    const settings = readFileSync(join(demoRoot, '.vscode', 'settings.json'), 'utf8');
    expect(settings).toMatch(/"latencyCopilot\.speedPanel\.showOnStartup": true/);
    expect(settings).toMatch(/"editor\.inlineSuggest\.suppressSuggestions": true/);
  });

  // What a simulator that continues code from the workspace's files suggests at the cursor: the longest tail of the text
  // before the cursor that occurs in another file, continued with what follows it there. The test keeps example.ts and
  // src/duration.ts in step, so that what the person accepts is the finished function and compiles.
  const others = listFiles(demoRoot)
    .filter((path) => path.endsWith('.ts') && path !== DEMO_FILE)
    .map((path) => readFileSync(join(demoRoot, path), 'utf8'));

  function continuation(prefix: string): { matched: string; text: string } {
    let best = { matched: '', text: '' };
    for (let length = 1; length <= prefix.length; length += 1) {
      const tail = prefix.slice(-length);
      const source = others.find((text) => text.includes(tail));
      if (source === undefined) break;
      best = { matched: tail, text: source.slice(source.indexOf(tail) + tail.length) };
    }
    return best;
  }

  /** TypeScript's diagnostics for the demo project with example.ts replaced by `example`. */
  function diagnostics(example: string): string[] {
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts'],
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const examplePath = join(demoRoot, DEMO_FILE);
    const readFile = host.readFile.bind(host);
    host.readFile = (path) => (path === examplePath ? example : readFile(path));
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (path, language) =>
      path === examplePath ? ts.createSourceFile(path, example, language) : getSourceFile(path, language);
    const program = ts.createProgram([examplePath], options, host);
    return ts
      .getPreEmitDiagnostics(program)
      .map((diagnostic) => `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
  }

  const { line, column } = typingCursor(exampleText);
  const cursorOffset = offsetOf(exampleText, line, column);

  it.each([
    ['nothing typed yet, a whole block', '', true],
    ['after typing "if", as the second line says, the rest of the line', 'if', false],
  ])(
    'suggests the finished formatDuration from src/duration.ts (%s), and accepting it compiles',
    (_case, typed, multiline) => {
      const prefix = exampleText.slice(0, cursorOffset) + typed;
      const suffix = exampleText.slice(cursorOffset);
      const { matched, text } = continuation(prefix);
      // The match runs back through the function's doc comment, so no other place in the workspace competes with it.
      expect(matched).toContain('/** Writes milliseconds as parseDuration reads them');
      const lines = suffix.split('\n');
      const shown = shownSuggestion(text, true, {
        linePrefix: prefix.slice(prefix.lastIndexOf('\n') + 1),
        lineSuffix: lines[0] ?? '',
        followingLines: lines.slice(1),
        multiline,
        maxLines: 12,
        tabSize: 2,
      }).text;
      expect(shown.length).toBeGreaterThan(10);
      const accepted = prefix + shown + suffix;
      const errors = diagnostics(accepted);
      if (multiline) {
        expect(errors).toEqual([]);
        expect(accepted).toContain("  return parts.join('') || '0ms';\n}\n");
      } else {
        // One line accepted: the function still lacks its return, and that is the only complaint.
        expect(errors).toEqual([expect.stringMatching(/^TS2355:/)]);
      }
    },
    60_000,
  );
});
