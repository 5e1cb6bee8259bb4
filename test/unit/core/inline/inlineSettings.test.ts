import { describe, expect, it } from 'vitest';
import { gateVerdict, isLanguageEnabled, readInlineOptions } from '../../../../src/core/inline/inlineSettings';
import type { GateInput, GateVerdict } from '../../../../src/core/inline/inlineSettings';
import { settingsFromObject } from '../../../../src/core/config/settings';

const base: GateInput = {
  enabled: true,
  languageEnabled: true,
  file: 'allowed',
  workspaceTrusted: true,
  allowUntrusted: false,
};

// Which files the shared gate refuses is tested in fileGate.test.ts; here, how the inline gate words and orders them.
describe('gateVerdict: no requests from secret-bearing, ignored, outside or untrusted files', () => {
  const rows: { name: string; input: Partial<GateInput>; verdict: GateVerdict | null }[] = [
    { name: 'an ordinary file', input: {}, verdict: null },
    { name: 'switched off', input: { enabled: false }, verdict: 'off' },
    { name: 'switched off wins over a refused file', input: { enabled: false, file: 'secret' }, verdict: 'off' },
    { name: 'a secret file', input: { file: 'secret' }, verdict: 'secret-file' },
    { name: 'an ignored file', input: { file: 'ignored' }, verdict: 'ignored-file' },
    { name: 'a file in a folder the index skips', input: { file: 'vendored' }, verdict: 'ignored-file' },
    { name: 'an untitled buffer or user settings', input: { file: 'not-a-file' }, verdict: 'not-a-file' },
    {
      name: 'a file outside the workspace folders',
      input: { file: 'outside-workspace' },
      verdict: 'outside-workspace',
    },
    { name: 'ignore files still being read', input: { file: 'loading' }, verdict: 'rules-loading' },
    { name: 'an untrusted workspace', input: { workspaceTrusted: false }, verdict: 'untrusted-workspace' },
    {
      name: 'an untrusted workspace, allowed',
      input: { workspaceTrusted: false, allowUntrusted: true },
      verdict: null,
    },
    {
      name: 'secret files stay off even when untrusted is allowed',
      input: { workspaceTrusted: false, allowUntrusted: true, file: 'secret' },
      verdict: 'secret-file',
    },
    { name: 'language off', input: { languageEnabled: false }, verdict: 'language-off' },
  ];
  it.each(rows)('$name -> $verdict', ({ input, verdict }) => {
    expect(gateVerdict({ ...base, ...input })).toBe(verdict);
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
    const options = readInlineOptions(
      settingsFromObject({
        'inline.multiline': 'never',
        'inline.minDisplayDelayMs': 5000,
        'inline.adaptiveDelay': true,
        'inline.speculativeRequests': false,
      }),
    );
    expect(options).toMatchObject({
      multiline: 'never',
      minDisplayDelayMs: 2000,
      adaptiveDelay: true,
      speculate: false,
    });
    expect(
      readInlineOptions(settingsFromObject({ 'inline.multiline': 'sometimes', 'inline.minDisplayDelayMs': -3 })),
    ).toMatchObject({ multiline: 'auto', minDisplayDelayMs: 0, adaptiveDelay: false, speculate: true });
  });
});
