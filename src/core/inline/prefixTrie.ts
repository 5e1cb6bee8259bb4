/** A node of the radix trie: an edge label from its parent, values stored at its full key, and children by first char. */
interface TrieNode<V> {
  label: string;
  parent: TrieNode<V> | null;
  readonly children: Map<string, TrieNode<V>>;
  readonly values: V[];
}

/** A stored value whose key is a prefix of the query, with that key's length. */
export interface PrefixMatch<V> {
  readonly value: V;
  readonly keyLength: number;
}

function newNode<V>(label: string, parent: TrieNode<V> | null): TrieNode<V> {
  return { label, parent, children: new Map(), values: [] };
}

/** Length of the common start of `a` (from `aFrom`) and `b`; native comparisons in a binary search, since keys are long. */
function commonPrefixLength(a: string, aFrom: number, b: string): number {
  if (a.startsWith(b, aFrom)) return b.length;
  let low = 0;
  let high = Math.min(a.length - aFrom, b.length);
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (a.startsWith(b.slice(0, middle), aFrom)) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * A radix (compressed prefix) trie from string keys to values. Its one question is "which stored keys are prefixes of
 * this text?", answered in one walk down the query whose cost is the number of edges passed (each compared natively),
 * so long document prefixes that share all but their last characters cost little to store and to look up.
 */
export class PrefixTrie<V> {
  private readonly root: TrieNode<V> = newNode('', null);
  private count = 0;

  /** Number of stored values. */
  get size(): number {
    return this.count;
  }

  /** Stores `value` under `key` (several values may share a key). */
  insert(key: string, value: V): void {
    let node = this.root;
    let position = 0;
    for (;;) {
      if (position === key.length) {
        node.values.push(value);
        this.count += 1;
        return;
      }
      const child = node.children.get(key.charAt(position));
      if (child === undefined) {
        const leaf = newNode<V>(key.slice(position), node);
        leaf.values.push(value);
        node.children.set(key.charAt(position), leaf);
        this.count += 1;
        return;
      }
      const shared = commonPrefixLength(key, position, child.label);
      if (shared < child.label.length) this.split(child, shared);
      const next = node.children.get(key.charAt(position));
      if (next === undefined) throw new Error('PrefixTrie: lost a child while splitting.');
      node = next;
      position += shared;
    }
  }

  /** Every stored value whose key is a prefix of `query`, shortest key first. */
  prefixesOf(query: string): PrefixMatch<V>[] {
    const matches: PrefixMatch<V>[] = [];
    let node = this.root;
    let position = 0;
    for (;;) {
      for (const value of node.values) matches.push({ value, keyLength: position });
      if (position === query.length) return matches;
      const child = node.children.get(query.charAt(position));
      if (child === undefined || !query.startsWith(child.label, position)) return matches;
      node = child;
      position += child.label.length;
    }
  }

  /** Removes one `value` stored under `key`; true when it was there. Empty branches are pruned and merged. */
  delete(key: string, value: V): boolean {
    let node = this.root;
    let position = 0;
    while (position < key.length) {
      const child = node.children.get(key.charAt(position));
      if (child === undefined || !key.startsWith(child.label, position)) return false;
      node = child;
      position += child.label.length;
    }
    const index = node.values.indexOf(value);
    if (index === -1) return false;
    node.values.splice(index, 1);
    this.count -= 1;
    this.prune(node);
    return true;
  }

  /** Splits `child`'s edge after `at` characters, inserting a node there. */
  private split(child: TrieNode<V>, at: number): void {
    const parent = child.parent;
    if (parent === null) throw new Error('PrefixTrie: cannot split the root.');
    const middle = newNode<V>(child.label.slice(0, at), parent);
    parent.children.set(middle.label.charAt(0), middle);
    child.label = child.label.slice(at);
    child.parent = middle;
    middle.children.set(child.label.charAt(0), child);
  }

  private prune(start: TrieNode<V>): void {
    let node: TrieNode<V> | null = start;
    while (node !== null && node.parent !== null && node.values.length === 0 && node.children.size === 0) {
      const parent: TrieNode<V> = node.parent;
      parent.children.delete(node.label.charAt(0));
      node = parent;
    }
    // A valueless node with one child is merged into it, keeping the trie compressed.
    if (node !== null && node.parent !== null && node.values.length === 0 && node.children.size === 1) {
      const only = node.children.values().next().value;
      if (only !== undefined) {
        only.label = node.label + only.label;
        only.parent = node.parent;
        node.parent.children.set(only.label.charAt(0), only);
      }
    }
  }
}
