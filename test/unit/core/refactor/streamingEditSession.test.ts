import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import { MemoryDocument } from '../../../../src/core/refactor/memoryDocument';
import { StreamingEditSession, type InterruptReason } from '../../../../src/core/refactor/streamingEditSession';
import { ManualScheduler } from '../../../../src/core/scheduler';

/** Lets every pending edit delivery (setImmediate in MemoryDocument) and its promise chain run. */
async function settle(rounds = 3): Promise<void> {
  for (let round = 0; round < rounds; round += 1) await new Promise((resolve) => setImmediate(resolve));
}

function setup(text: string, regionText: string, eol: '\n' | '\r\n' = '\n') {
  const clock = new ManualClock(1000);
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  const document = new MemoryDocument(text, { eol });
  const offset = text.indexOf(regionText);
  const interrupts: InterruptReason[] = [];
  const session = new StreamingEditSession(document, {
    region: { offset, length: regionText.length },
    clock,
    scheduler,
    onInterrupted: (reason) => interrupts.push(reason),
  });
  document.onDidChange((changes) => session.documentChanged(changes));
  /** Appends `text` in `chunk`-sized pieces, `msPerChunk` apart, letting edits land as they would. */
  const stream = async (newText: string, chunk = 3, msPerChunk = 4): Promise<void> => {
    for (let at = 0; at < newText.length; at += chunk) {
      session.append(newText.slice(at, at + chunk));
      scheduler.advance(msPerChunk);
      await settle(1);
    }
  };
  return { clock, scheduler, document, session, stream, interrupts };
}

const BEFORE = 'header();\n\n';
const ORIGINAL = 'function old() {\n  return 1;\n}\n';
const AFTER = '\nfooter();\n';
const UPDATED = 'function renamed(): number {\n  return 1;\n}\n';

describe('StreamingEditSession', () => {
  it('streams into the region at about one edit per frame and ends in review with the new text', async () => {
    const { document, session, stream } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    const long = UPDATED.repeat(20);
    await stream(long, 2, 1); // 1 ms per 2 characters: a fast stream
    const result = await session.finish();
    expect(result).toEqual({ kind: 'review', text: long });
    expect(document.getText()).toBe(BEFORE + long + AFTER);
    const streamedMs = long.length / 2;
    // Never one edit per chunk: at most one per 16 ms frame (plus the first and the final one).
    expect(session.counters.edits).toBeLessThanOrEqual(Math.ceil(streamedMs / 16) + 2);
    expect(session.counters.edits).toBeGreaterThan(3);
    expect(session.state).toBe('review');
  });

  it('writes every character exactly once when the stream ends while an edit is in flight', async () => {
    for (let round = 0; round < 20; round += 1) {
      const { document, session, scheduler } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
      const pieces = ['function ', 'renamed()', ': number {\n', '  return 1;', '\n}'];
      for (const [index, piece] of pieces.entries()) {
        session.append(piece);
        scheduler.advance(17); // each piece starts an edit, delivered on a later macrotask
        if (index % 2 === round % 2) await settle(1);
      }
      // finish() is called with the last edit still in flight.
      const result = await session.finish('\n');
      expect(result).toEqual({ kind: 'review', text: UPDATED });
      expect(document.getText()).toBe(BEFORE + UPDATED + AFTER);
    }
  });

  it('makes the whole refactor one undo step: Accept, then one undo restores the original', async () => {
    const { document, session, stream } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await stream(UPDATED.repeat(5));
    await session.finish();
    session.accept();
    expect(session.state).toBe('accepted');
    expect(document.undo()).toBe(true);
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
    expect(document.undoDepth).toBe(0);
  });

  it('restores the original byte for byte on failure, in a CRLF document', async () => {
    const text = (BEFORE + ORIGINAL + AFTER).replace(/\n/g, '\r\n');
    const region = ORIGINAL.replace(/\n/g, '\r\n');
    const { document, session, stream } = setup(text, region, '\r\n');
    await stream('partial\nrewrite\n  of the', 2);
    expect(document.getText()).not.toBe(text);
    expect(document.getText()).toContain('partial\r\nrewrite');
    expect(await session.restore()).toBe('restored');
    expect(document.getText()).toBe(text);
    expect(session.state).toBe('restored');
    // The restore joined the refactor's undo group: undoing it changes nothing visible.
    document.undo();
    expect(document.getText()).toBe(text);
  });

  it('restores nothing when the failure came before the first edit', async () => {
    const { document, session } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    expect(await session.restore()).toBe('untouched');
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
    expect(document.undoDepth).toBe(0);
  });

  it('keeps streaming when the person types above the region, and still undoes in one step', async () => {
    const { document, session, stream } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await stream(UPDATED.slice(0, 20));
    document.type(0, '// typed\n');
    await stream(UPDATED.slice(20));
    const result = await session.finish();
    expect(result.kind).toBe('review');
    expect(document.getText()).toBe('// typed\n' + BEFORE + UPDATED + AFTER);
    document.undo();
    expect(document.getText()).toBe('// typed\n' + BEFORE + ORIGINAL + AFTER);
  });

  it('keeps streaming when the person types below the region', async () => {
    const { document, session, stream } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await stream(UPDATED.slice(0, 20));
    document.type(document.getText().length, 'tail();');
    await stream(UPDATED.slice(20));
    await session.finish();
    expect(document.getText()).toBe(BEFORE + UPDATED + AFTER + 'tail();');
  });

  it('stops for good when the person types inside the region, and never overwrites it', async () => {
    const { document, session, stream, interrupts } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await stream(UPDATED.slice(0, 20));
    const inside = session.region.offset + 5;
    document.type(inside, 'MINE');
    expect(interrupts).toEqual(['edited-inside']);
    expect(session.state).toBe('interrupted');
    const snapshot = document.getText();
    await stream(UPDATED.slice(20));
    expect(await session.finish()).toEqual({ kind: 'interrupted', reason: 'edited-inside' });
    expect(await session.restore()).toBe('kept');
    expect(document.getText()).toBe(snapshot);
    expect(document.getText()).toContain('MINE');
  });

  it('stops when the person edits the original before the first token, leaving their edit', async () => {
    const { document, session, interrupts } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    document.type(BEFORE.length + 3, 'X');
    expect(interrupts).toEqual(['edited-inside']);
    session.append('new code');
    expect(await session.finish()).toEqual({ kind: 'interrupted', reason: 'edited-inside' });
    expect(document.getText()).toBe(BEFORE + 'fun' + 'X' + ORIGINAL.slice(3) + AFTER);
  });

  it('retries an edit the document refused because the person typed first', async () => {
    const { document, session, scheduler } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    session.append('abc');
    scheduler.advance(20); // the edit is requested now and delivered on the next macrotask
    document.type(0, 'Z'); // ...but the person's keystroke lands first
    await settle();
    expect(session.counters.staleEdits).toBe(1);
    session.append('def');
    scheduler.advance(20);
    await settle();
    await session.finish();
    expect(document.getText()).toBe('Z' + BEFORE + 'abcdef' + AFTER);
  });

  it('Reject puts the original back; editing during review keeps the new text', async () => {
    const first = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await first.stream(UPDATED);
    await first.session.finish();
    expect(await first.session.reject()).toBe('restored');
    expect(first.document.getText()).toBe(BEFORE + ORIGINAL + AFTER);

    const second = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await second.stream(UPDATED);
    await second.session.finish();
    second.document.type(second.session.region.offset + 2, '!');
    expect(second.session.state).toBe('accepted');
    expect(await second.session.reject()).toBe('kept');
    expect(second.document.getText()).toContain('!');
  });

  it('inserts into an empty region (tests below the code), and restores by removing it', async () => {
    const text = 'code();\n';
    const clock = new ManualClock();
    const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
    const document = new MemoryDocument(text);
    const session = new StreamingEditSession(document, {
      region: { offset: text.length, length: 0 },
      clock,
      scheduler,
    });
    document.onDidChange((changes) => session.documentChanged(changes));
    session.append('\ntest();');
    scheduler.advance(20);
    await settle();
    expect(document.getText()).toBe('code();\n\ntest()'); // the last character waits for the final edit
    expect(await session.restore()).toBe('restored');
    expect(document.getText()).toBe(text);
  });

  it('reports an empty answer without touching the document', async () => {
    const { document, session } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    expect(await session.finish('\n')).toEqual({ kind: 'empty' });
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });

  it('stops when the document closes mid-stream', async () => {
    const { document, session, stream, interrupts } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await stream(UPDATED.slice(0, 10));
    document.close();
    await stream(UPDATED.slice(10, 30));
    expect(interrupts).toEqual(['closed']);
    expect(session.state).toBe('interrupted');
    // A closed document takes no edit: the session reports that it could not restore.
    expect(await session.restore()).toBe('kept');
  });

  it('restores after its editor went away when the document can still take an edit', async () => {
    const { document, session, stream, interrupts } = setup(BEFORE + ORIGINAL + AFTER, ORIGINAL);
    await stream(UPDATED.slice(0, 20));
    // The editor went away: streaming edits are refused as `closed`; a later restore may go another way (VS Code:
    // a workspace edit), modelled by a document that takes edits again.
    const applyEdit = document.applyEdit.bind(document);
    let editorGone = true;
    document.applyEdit = (change, stops) => (editorGone ? Promise.resolve('closed') : applyEdit(change, stops));
    await stream(UPDATED.slice(20, 40));
    expect(interrupts).toEqual(['closed']);
    editorGone = false;
    expect(await session.restore()).toBe('restored');
    expect(document.getText()).toBe(BEFORE + ORIGINAL + AFTER);
  });
});
