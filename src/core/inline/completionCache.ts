import type { CompletionStream } from './completionStream';
import { PrefixTrie } from './prefixTrie';

/** A cached (or still streaming) completion that fits the current document state. */
export interface CacheHit {
  readonly stream: CompletionStream;
  /** What was typed since the stream's state: a prefix of its text (or, while it streams, possibly ahead of it). */
  readonly typedLength: number;
  /** True when the typed text runs ahead of what the stream has produced: wait for more before judging. */
  readonly ahead: boolean;
}

/** Longest typed run (in characters) a cached completion is followed through. */
const MAX_TYPED_CHARS = 20_000;

/** The cache key of a document state: the document's identity and everything before the cursor. */
export function stateKey(documentId: string, prefix: string): string {
  return `${documentId}\u0000${prefix}`;
}

/**
 * Completions by the document state they were requested for, in a prefix trie: a state reached by typing along a
 * completion (or along a stream still arriving) finds it in one walk, well under a millisecond. Least recently used
 * entries go first when `capacity` is reached.
 */
export class CompletionCache {
  private readonly trie = new PrefixTrie<CompletionStream>();
  /** Insertion/use order for LRU eviction (a Map keeps insertion order). */
  private readonly order = new Map<CompletionStream, true>();

  constructor(private readonly capacity = 100) {}

  /** Number of cached completions. */
  get size(): number {
    return this.order.size;
  }

  /** Adds a stream under its own key (`stream.key`). */
  add(stream: CompletionStream): void {
    this.trie.insert(stream.key, stream);
    this.order.set(stream, true);
    while (this.order.size > this.capacity) {
      const oldest = this.order.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }

  /** Forgets a stream (a failed request, an answer that turned out empty). */
  remove(stream: CompletionStream): void {
    this.trie.delete(stream.key, stream);
    this.order.delete(stream);
  }

  /**
   * The completion that continues the state `key` with `suffixKey` after the cursor: the most recent state it is
   * reachable from by typing along it. Exhausted completions (everything typed) are passed over.
   */
  lookup(key: string, suffixKey: string): CacheHit | null {
    const matches = this.trie.prefixesOf(key);
    for (let index = matches.length - 1; index >= 0; index -= 1) {
      const match = matches[index];
      if (match === undefined) continue;
      const { value: stream, keyLength } = match;
      if (stream.suffixKey !== suffixKey) continue;
      const typedLength = key.length - keyLength;
      if (typedLength > MAX_TYPED_CHARS) continue;
      const text = stream.text;
      if (typedLength <= text.length && key.startsWith(text.slice(0, typedLength), keyLength)) {
        if (typedLength === text.length && stream.done) continue;
        this.touch(stream);
        return { stream, typedLength, ahead: false };
      }
      if (!stream.done && key.startsWith(text, keyLength)) {
        this.touch(stream);
        return { stream, typedLength, ahead: true };
      }
    }
    return null;
  }

  /** True when `stream` can still serve `key`: typed along it, or `key` lies on the way to a state it was made for. */
  isUseful(stream: CompletionStream, key: string, suffixKey: string): boolean {
    if (stream.suffixKey !== suffixKey) return false;
    if (stream.key.startsWith(key)) return true;
    if (!key.startsWith(stream.key)) return false;
    const typed = key.slice(stream.key.length);
    return stream.text.startsWith(typed) || (!stream.done && typed.startsWith(stream.text));
  }

  private touch(stream: CompletionStream): void {
    this.order.delete(stream);
    this.order.set(stream, true);
  }
}
