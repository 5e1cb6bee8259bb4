import { describe, expect, it } from 'vitest';
import { compileInlineIgnore, gateVerdict, isIgnoredPath, isLanguageEnabled, readInlineOptions } from '../../src/core/inline/inlineSettings';
import type { GateInput, GateVerdict } from '../../src/core/inline/inlineSettings';
import { settingsFromObject } from '../../src/core/settings';

const base: GateInput = {
  enabled: true,
  languageEnabled: true,
  fileName: 'main.ts',
  relativePath: 'src/main.ts',
  workspaceTrusted: true,
  allowUntrusted: false,
  ignorePatterns: compileInlineIgnore('generated/\n*.secret.ts\n!keep.secret.ts\n'),
};

describe('gateVerdict: no requests from secret-bearing, ignored or untrusted files', () => {
  const rows: { name: string; input: Partial<GateInput>; verdict: GateVerdict | null }[] = [
    { name: 'an ordinary file', input: {}, verdict: null },
    { name: 'switched off', input: { enabled: false }, verdict: 'off' },
    { name: '.env', input: { fileName: '.env', relativePath: '.env' }, verdict: 'secret-file' },
    { name: '.env.local', input: { fileName: '.env.local', relativePath: 'app/.env.local' }, verdict: 'secret-file' },
    { name: 'a .pem key', input: { fileName: 'server.pem', relativePath: 'certs/server.pem' }, verdict: 'secret-file' },
    { name: 'a .key file', input: { fileName: 'tls.key', relativePath: 'tls.key' }, verdict: 'secret-file' },
    { name: 'id_rsa', input: { fileName: 'id_rsa', relativePath: null }, verdict: 'secret-file' },
    { name: 'id_rsa.pub', input: { fileName: 'id_rsa.pub', relativePath: null }, verdict: 'secret-file' },
    { name: 'a folder in the ignore file', input: { fileName: 'a.ts', relativePath: 'generated/deep/a.ts' }, verdict: 'ignored-file' },
    { name: 'a glob in the ignore file', input: { fileName: 'db.secret.ts', relativePath: 'src/db.secret.ts' }, verdict: 'ignored-file' },
    { name: 'a negated pattern', input: { fileName: 'keep.secret.ts', relativePath: 'src/keep.secret.ts' }, verdict: null },
    { name: 'an untrusted workspace', input: { workspaceTrusted: false }, verdict: 'untrusted-workspace' },
    { name: 'an untrusted workspace, allowed', input: { workspaceTrusted: false, allowUntrusted: true }, verdict: null },
    { name: 'secret files stay off even when untrusted is allowed', input: { workspaceTrusted: false, allowUntrusted: true, fileName: '.env' }, verdict: 'secret-file' },
    { name: 'language off', input: { languageEnabled: false }, verdict: 'language-off' },
  ];
  it.each(rows)('$name -> $verdict', ({ input, verdict }) => {
    expect(gateVerdict({ ...base, ...input })).toBe(verdict);
  });

  it('isIgnoredPath with no patterns ignores nothing', () => {
    expect(isIgnoredPath([], 'generated/a.ts')).toBe(false);
  });
});

describe('isLanguageEnabled', () => {
  const rows: { languages: unknown; id: string; enabled: boolean }[] = [
    { languages: { '*': true, markdown: false }, id: 'markdown', enabled: false },
    { languages: { '*': true, markdown: false }, id: 'typescript', enabled: true },
    { languages: { '*': false, python: true }, id: 'python', enabled: true },
    { languages: { '*': false, python: true }, id: 'go', enabled: false },
    { languages: {}, id: 'go', enabled: true },
    { languages: null, id: 'go', enabled: true },
    { languages: { go: 'yes' }, id: 'go', enabled: true },
    { languages: { '*': true }, id: 'toString', enabled: true },
  ];
  it.each(rows)('$id in $languages -> $enabled', ({ languages, id, enabled }) => {
    expect(isLanguageEnabled(languages, id)).toBe(enabled);
  });
});

describe('readInlineOptions', () => {
  it('reads the settings and falls back to defaults on bad values', () => {
    const options = readInlineOptions(settingsFromObject({ 'inline.multiline': 'never', 'inline.minDisplayDelayMs': 5000, 'inline.adaptiveDelay': true, 'inline.speculativeRequests': false }));
    expect(options).toMatchObject({ multiline: 'never', minDisplayDelayMs: 2000, adaptiveDelay: true, speculate: false });
    expect(readInlineOptions(settingsFromObject({ 'inline.multiline': 'sometimes', 'inline.minDisplayDelayMs': -3 }))).toMatchObject({ multiline: 'auto', minDisplayDelayMs: 0, adaptiveDelay: false, speculate: true });
  });
});
