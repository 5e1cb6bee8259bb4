import { decodeGenerator, encode } from 'gpt-tokenizer/encoding/cl100k_base';

const NO_SPECIAL_TOKENS = new Set<string>();

/** A text cut into cl100k tokens: the ids, and per token the text it completes (valid UTF-16, possibly ''). */
export interface TokenizedText {
  readonly ids: readonly number[];
  /**
   * `pieces[i]` is the text that becomes complete with token i. A character whose UTF-8 bytes span several tokens
   * belongs to the last of them, so earlier ones carry ''. `pieces.join('')` is the whole text.
   */
  readonly pieces: readonly string[];
}

/** Tokenises `text` once with cl100k_base and assigns each token the text it completes. */
export function tokenizeText(text: string): TokenizedText {
  const ids = encode(text, { disallowedSpecial: NO_SPECIAL_TOKENS });
  const pieces = ids.map(() => '');
  // decodeGenerator pulls one token at a time and yields as soon as text is complete, so the string it yields
  // belongs to the token pulled last.
  let pulled = -1;
  function* feed(): Generator<number> {
    for (let index = 0; index < ids.length; index++) {
      pulled = index;
      yield ids[index] ?? 0;
    }
  }
  for (const text of decodeGenerator(feed())) {
    pieces[pulled] = (pieces[pulled] ?? '') + text;
  }
  if (pieces.join('') !== text) {
    // Never expected; if the tokenizer ever disagrees with itself, stream the text whole rather than corrupt it.
    return { ids, pieces: ids.map((_, index) => (index === ids.length - 1 ? text : '')) };
  }
  return { ids, pieces };
}

/** Keeps the first `count` tokens. */
export function takeTokens(tokens: TokenizedText, count: number): TokenizedText {
  if (count >= tokens.ids.length) return tokens;
  return { ids: tokens.ids.slice(0, count), pieces: tokens.pieces.slice(0, count) };
}

/** One event the simulator will write: the tokens it carries and the text they complete. */
export interface PlannedEvent {
  readonly text: string;
  readonly ids: readonly number[];
  /** Index of the event's first token in the whole stream. */
  readonly firstToken: number;
  /** Index of the event's last token; the event is due when this token is due. */
  readonly lastToken: number;
}

/**
 * Groups tokens into events of `tokensPerEvent` tokens. An event never carries '' (a token that only starts a
 * multi-byte character joins the next event), and an event boundary is forced after token `boundaryAfter`
 * (so that "after N tokens" faults happen after exactly N tokens).
 */
export function planEvents(
  tokens: TokenizedText,
  tokensPerEvent: number,
  boundaryAfter: number | null,
): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  let start = 0;
  let text = '';
  for (let index = 0; index < tokens.ids.length; index++) {
    text += tokens.pieces[index] ?? '';
    const count = index - start + 1;
    const atBoundary = boundaryAfter !== null && index + 1 === boundaryAfter;
    const isLast = index === tokens.ids.length - 1;
    if ((count >= tokensPerEvent || atBoundary || isLast) && (text.length > 0 || isLast)) {
      events.push({ text, ids: tokens.ids.slice(start, index + 1), firstToken: start, lastToken: index });
      start = index + 1;
      text = '';
    }
  }
  return events;
}
