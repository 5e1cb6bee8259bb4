import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

function listTypeScriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return listTypeScriptFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

const importsVscode = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;

describe('architecture invariants', () => {
  it('src/core never imports vscode (invariant 1)', () => {
    const offenders = listTypeScriptFiles(join(root, 'src', 'core'))
      .filter((file) => importsVscode.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });

  it('src/core and src/sim never import from the adapter layer', () => {
    const offenders = [...listTypeScriptFiles(join(root, 'src', 'core')), ...listTypeScriptFiles(join(root, 'src', 'sim'))]
      .filter((file) => /from\s+['"][./]*\/vscode\//.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });

  it('the scan itself detects a vscode import', () => {
    expect(importsVscode.test("import * as vscode from 'vscode';")).toBe(true);
    expect(importsVscode.test("const v = require('vscode');")).toBe(true);
    expect(importsVscode.test("import { x } from './vscodeLike';")).toBe(false);
  });

  it('no source file uses `any` or an `as` cast outside tests', () => {
    const offenders = listTypeScriptFiles(join(root, 'src'))
      .filter((file) => {
        const code = readFileSync(file, 'utf8')
          .replace(/\/\/.*$/gm, '')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/import\s+\*\s+as\s+\w+/g, '');
        const withoutStrings = code
          .replace(/`(?:\\[\s\S]|[^`\\])*`/g, '""')
          .replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, '""');
        return /:\s*any\b|<any>|\bas\s+(?!const\b)[A-Za-z{[(]/.test(withoutStrings);
      })
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });
});
