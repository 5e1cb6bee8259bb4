import { describe, expect, it } from 'vitest';
import {
  checkExportArguments,
  checkRefactorArguments,
  checkRepoTaskArguments,
  checkSecretNameArgument,
  clearKeyConfirmation,
  describeArgument,
  MAX_INSTRUCTION_CHARS,
} from '../../../../src/core/commands/commandArguments';
import { runClearKeyCommand, runExportCommand } from '../../../../src/core/commands/commandFlows';
import type { ClearKeyCommandUi, ExportCommandUi } from '../../../../src/core/commands/commandFlows';
import type { ExportFormat } from '../../../../src/core/speed/panelProtocol';

/** A stand-in for vscode.Uri: the adapter tells URIs apart with `instanceof`. */
class FakeUri {
  constructor(readonly path: string) {}
}
const isFakeUri = (value: unknown): value is FakeUri => value instanceof FakeUri;

const GROQ = 'latencyCopilot.apiKey:https://api.groq.com';
const A_KEY = 'sk-live-0123456789abcdefghijklmnop';

describe('checkExportArguments', () => {
  const uri = new FakeUri('/tmp/out.csv');
  it.each([
    ['nothing', undefined, undefined, { format: null, suggestedLocation: null }],
    ['json', 'json', undefined, { format: 'json', suggestedLocation: null }],
    ['csv and a URI', 'csv', uri, { format: 'csv', suggestedLocation: uri }],
    ['null and a URI (panel-style)', null, uri, { format: null, suggestedLocation: uri }],
  ] as const)('accepts %s', (_name, format, location, expected) => {
    expect(checkExportArguments(format, location, isFakeUri)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['an unknown format', 'xml', undefined, 'format'],
    ['an upper-case format', 'JSON', undefined, 'format'],
    ['a number as format', 1, undefined, 'format'],
    ['a path string as location', 'csv', '/etc/passwd', 'location'],
    ['an object shaped like a URI', 'csv', { scheme: 'file', path: '/etc/passwd' }, 'location'],
  ])('refuses %s with one line', (_name, format, location, word) => {
    const check = checkExportArguments(format, location, isFakeUri);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problem).toContain(word);
    expect(check.problem).not.toContain('\n');
    expect(check.problem).not.toContain('/etc/passwd');
  });
});

describe('checkSecretNameArgument', () => {
  it.each([
    ['nothing', undefined, null],
    ['a key name', GROQ, GROQ],
    [
      'a loopback key name with a port',
      'latencyCopilot.apiKey:http://127.0.0.1:8080',
      'latencyCopilot.apiKey:http://127.0.0.1:8080',
    ],
  ])('accepts %s', (_name, value, expected) => {
    expect(checkSecretNameArgument('Clear API Key', value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['an API key pasted by mistake', A_KEY],
    ["another extension's secret", 'someone.else:token'],
    ['a name with a path', `${GROQ}/v1`],
    ['a name with a non-http scheme', 'latencyCopilot.apiKey:file:///etc'],
    ['a name with an unparsable origin', 'latencyCopilot.apiKey:not a url'],
    ['a number', 42],
    ['an object', { secretName: GROQ }],
  ])('refuses %s, without echoing it', (_name, value) => {
    const check = checkSecretNameArgument('Clear API Key', value);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problem.startsWith('Clear API Key:')).toBe(true);
    expect(check.problem).not.toContain(A_KEY);
    expect(check.problem).not.toContain('someone.else');
  });
});

describe('checkRefactorArguments', () => {
  it.each([
    ['nothing', undefined, {}],
    ['an instruction', { instruction: 'Simplify this method' }, { instruction: 'Simplify this method' }],
    [
      'a preset and a role',
      { presetId: 'simplify', role: 'longContext' },
      { presetId: 'simplify', role: 'longContext' },
    ],
    [
      'simulator headers',
      { instruction: 'x', extraHeaders: { 'x-sim-fault': 'drop-after:5' } },
      { instruction: 'x', extraHeaders: { 'x-sim-fault': 'drop-after:5' } },
    ],
  ])('accepts %s', (_name, raw, expected) => {
    expect(checkRefactorArguments(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['a string', 'Simplify'],
    ['a list', [{ instruction: 'x' }]],
    ['an unknown field', { instruction: 'x', model: 'other' }],
    ['an unknown preset', { presetId: 'rm-rf' }],
    ['an empty instruction', { instruction: '   ' }],
    ['an overlong instruction', { instruction: 'x'.repeat(MAX_INSTRUCTION_CHARS + 1) }],
    ['an unknown role', { role: 'cloud' }],
    ['an authorization header', { instruction: 'x', extraHeaders: { authorization: 'Bearer abc' } }],
    ['a header value with a newline', { instruction: 'x', extraHeaders: { 'x-sim-fault': 'a\r\nx-api-key: 1' } }],
  ])('refuses %s', (_name, raw) => {
    const check = checkRefactorArguments(raw);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem.startsWith('Refactor Selection:')).toBe(true);
  });
});

describe('checkRepoTaskArguments', () => {
  it.each([
    ['nothing', undefined, {}],
    ['no request', {}, {}],
    ['a question', { request: 'Where is the rate limiter?' }, { request: 'Where is the rate limiter?' }],
  ])('accepts %s', (_name, raw, expected) => {
    expect(checkRepoTaskArguments('Ask About This Repository', raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['a string', 'Where is it?'],
    ['a list', [{ request: 'x' }]],
    ['an unknown field', { request: 'x', files: ['.env'] }],
    ['an empty request', { request: '  ' }],
    ['an overlong request', { request: 'x'.repeat(MAX_INSTRUCTION_CHARS + 1) }],
    ['a number', { request: 42 }],
  ])('refuses %s, in one line that does not echo it', (_name, raw) => {
    const check = checkRepoTaskArguments('Refactor Across Repository', raw);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.problem.startsWith('Refactor Across Repository:')).toBe(true);
      expect(check.problem).not.toContain('Where is it?');
      expect(check.problem).not.toContain('\n');
    }
  });
});

describe('describeArgument', () => {
  it.each([
    [null, 'null'],
    ['secret', 'a text of 6 character(s)'],
    [[1, 2], 'a list of 2 item(s)'],
    [{}, 'an object'],
    [3, 'a number'],
  ])('%j -> %s', (value, words) => {
    expect(describeArgument(value)).toBe(words);
  });
});

function exportUi(answers: { format?: ExportFormat; location?: FakeUri }) {
  const calls: string[] = [];
  const written: { location: FakeUri; format: ExportFormat }[] = [];
  const errors: string[] = [];
  const ui: ExportCommandUi<FakeUri> = {
    pickFormat: async () => {
      calls.push('pickFormat');
      return answers.format;
    },
    askSaveLocation: async (format, suggested) => {
      calls.push(`askSaveLocation:${format}:${suggested?.path ?? 'default'}`);
      return answers.location;
    },
    write: async (location, format) => {
      written.push({ location, format });
    },
    showError: (message) => errors.push(message),
  };
  return { ui, calls, written, errors };
}

describe('runExportCommand (issue 14, item 12)', () => {
  it('a format and a location given by another extension only pre-fill the save dialog', async () => {
    const chosen = new FakeUri('/home/me/export.csv');
    const { ui, calls, written } = exportUi({ location: chosen });
    expect(await runExportCommand('csv', new FakeUri('/home/me/.bashrc'), isFakeUri, ui)).toBe('done');
    expect(calls).toEqual(['askSaveLocation:csv:/home/me/.bashrc']);
    expect(written).toEqual([{ location: chosen, format: 'csv' }]);
  });

  it('writes nothing when the person cancels the dialog', async () => {
    const { ui, written } = exportUi({});
    expect(await runExportCommand('json', new FakeUri('/home/me/.bashrc'), isFakeUri, ui)).toBe('cancelled');
    expect(written).toEqual([]);
  });

  it('asks for the format when none is given, and refuses a bad one without any dialog', async () => {
    const asked = exportUi({ format: 'json', location: new FakeUri('/x.json') });
    expect(await runExportCommand(undefined, undefined, isFakeUri, asked.ui)).toBe('done');
    expect(asked.calls).toEqual(['pickFormat', 'askSaveLocation:json:default']);
    const bad = exportUi({ location: new FakeUri('/x.json') });
    expect(await runExportCommand('html', undefined, isFakeUri, bad.ui)).toBe('refused');
    expect(bad.calls).toEqual([]);
    expect(bad.written).toEqual([]);
    expect(bad.errors).toHaveLength(1);
  });
});

function clearUi(answers: { pick?: string; confirm: boolean }) {
  const questions: string[] = [];
  const cleared: string[] = [];
  const errors: string[] = [];
  let picks = 0;
  const ui: ClearKeyCommandUi = {
    pickServer: async () => {
      picks++;
      return answers.pick;
    },
    usedBy: (name) => (name === GROQ ? ['burst#0', 'longContext#1'] : []),
    confirm: async (question) => {
      questions.push(`${question.message} | ${question.detail} | ${question.confirm}`);
      return answers.confirm;
    },
    clear: async (name) => {
      cleared.push(name);
    },
    showError: (message) => errors.push(message),
  };
  return { ui, questions, cleared, errors, picks: () => picks };
}

describe('runClearKeyCommand (issue 14, item 12)', () => {
  it('a key name given by another extension still needs the person to confirm, in a question naming the server', async () => {
    const declined = clearUi({ confirm: false });
    expect(await runClearKeyCommand(GROQ, declined.ui)).toBe('cancelled');
    expect(declined.cleared).toEqual([]);
    expect(declined.questions).toHaveLength(1);
    expect(declined.questions[0]).toContain('https://api.groq.com');
    expect(declined.questions[0]).toContain('burst#0, longContext#1');
    const confirmed = clearUi({ confirm: true });
    expect(await runClearKeyCommand(GROQ, confirmed.ui)).toBe('done');
    expect(confirmed.cleared).toEqual([GROQ]);
    expect(confirmed.picks()).toBe(0);
  });

  it('asks for the server when none is given, then confirms', async () => {
    const flow = clearUi({ pick: GROQ, confirm: true });
    expect(await runClearKeyCommand(undefined, flow.ui)).toBe('done');
    expect(flow.picks()).toBe(1);
    expect(flow.questions).toHaveLength(1);
  });

  it('refuses a malformed argument without asking or deleting anything', async () => {
    const flow = clearUi({ confirm: true });
    expect(await runClearKeyCommand('latencyCopilot.apiKey:', flow.ui)).toBe('refused');
    expect(flow.questions).toEqual([]);
    expect(flow.cleared).toEqual([]);
    expect(flow.errors).toHaveLength(1);
  });

  it('the question reads well with no endpoint using the server', () => {
    expect(clearKeyConfirmation('http://127.0.0.1:8080', [])).toEqual({
      message: 'Delete the API key for http://127.0.0.1:8080?',
      detail: 'It is removed from the OS keychain (SecretStorage). No configured endpoint uses this server now.',
      confirm: 'Delete Key',
    });
  });
});
