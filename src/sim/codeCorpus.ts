// A small corpus of realistic code the simulator streams, so that everything downstream (line splitting, stop rules,
// ghost text, refactor diffs) sees code-shaped text, not lorem ipsum. Written for this project; snippets of one
// language are repeated to fill long answers. (The architecture test scans src/ for type casts, so the snippets
// avoid that keyword on purpose.)

/** A language the corpus has snippets for. */
export type CorpusLanguage = 'typescript' | 'python' | 'go' | 'rust';

/** Code snippets per language, each a complete function or type, ending with a newline. */
export const CODE_CORPUS: Readonly<Record<CorpusLanguage, readonly string[]>> = {
  typescript: [
    `export function debounce<T extends unknown[]>(fn: (...args: T) => void, waitMs: number): (...args: T) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: T) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn(...args);
    }, waitMs);
  };
}
`,
    `export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new RangeError('capacity must be at least 1');
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
`,
    `export async function retryWithBackoff<T>(task: () => Promise<T>, attempts = 3, baseDelayMs = 200): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await task();
    } catch (error) {
      lastError = error;
      const delayMs = baseDelayMs * 2 ** attempt + Math.random() * baseDelayMs;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  throw lastError;
}
`,
    `export function partition<T>(items: readonly T[], predicate: (item: T) => boolean): [T[], T[]] {
  const matching: T[] = [];
  const rest: T[] = [];
  for (const item of items) {
    (predicate(item) ? matching : rest).push(item);
  }
  return [matching, rest];
}

export function parseDuration(text: string): number | null {
  const match = /^(\\d+(?:\\.\\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]);
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return value * (unitMs[match[2] ?? 'ms'] ?? 1);
}
`,
  ],
  python: [
    `def chunked(items, size):
    """Yield successive lists of at most \`size\` items."""
    if size < 1:
        raise ValueError("size must be at least 1")
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
`,
    `class RateLimiter:
    """A token bucket: \`rate\` tokens per second, bursts up to \`capacity\`."""

    def __init__(self, rate: float, capacity: int) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = time.monotonic()

    def try_acquire(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        elapsed = now - self.updated
        self.updated = now
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False
`,
    `def read_config(path: str) -> dict[str, str]:
    """Parse a simple KEY=VALUE file, ignoring comments and blank lines."""
    config: dict[str, str] = {}
    text = Path(path).read_text(encoding="utf-8")
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}:{line_number}: expected KEY=VALUE")
        config[key.strip()] = value.strip().strip('"')
    return config
`,
  ],
  go: [
    `func Retry(ctx context.Context, attempts int, delay time.Duration, fn func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay * time.Duration(1<<i)):
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}
`,
    `type Stack[T any] struct {
	items []T
}

func (s *Stack[T]) Push(item T) {
	s.items = append(s.items, item)
}

func (s *Stack[T]) Pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	last := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return last, true
}
`,
    `func WordCount(r io.Reader) (map[string]int, error) {
	counts := make(map[string]int)
	scanner := bufio.NewScanner(r)
	scanner.Split(bufio.ScanWords)
	for scanner.Scan() {
		word := strings.ToLower(strings.Trim(scanner.Text(), ".,;:!?\\"'"))
		if word != "" {
			counts[word]++
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return counts, nil
}
`,
  ],
  rust: [
    `pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mid = values.len() / 2;
    if values.len() % 2 == 0 {
        Some((values[mid - 1] + values[mid]) / 2.0)
    } else {
        Some(values[mid])
    }
}
`,
    `#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Number(f64),
    Ident(String),
    Symbol(char),
}

pub fn tokenize(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_digit() {
            let mut text = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() || d == '.' {
                    text.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token::Number(text.parse().unwrap_or(0.0)));
        } else if c.is_alphabetic() {
            let mut text = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' {
                    text.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token::Ident(text));
        } else {
            tokens.push(Token::Symbol(c));
            chars.next();
        }
    }
    tokens
}
`,
    `pub struct RingBuffer<T> {
    items: Vec<Option<T>>,
    head: usize,
    len: usize,
}

impl<T> RingBuffer<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { items: (0..capacity).map(|_| None).collect(), head: 0, len: 0 }
    }

    pub fn push(&mut self, item: T) -> Option<T> {
        let capacity = self.items.len();
        let index = (self.head + self.len) % capacity;
        let evicted = self.items[index].replace(item);
        if self.len == capacity {
            self.head = (self.head + 1) % capacity;
        } else {
            self.len += 1;
        }
        evicted
    }
}
`,
  ],
};

/** The fence tag of each language, for chat answers. */
export const FENCE_TAG: Readonly<Record<CorpusLanguage, string>> = {
  typescript: 'ts',
  python: 'python',
  go: 'go',
  rust: 'rust',
};

/** The languages in a stable order. */
export const CORPUS_LANGUAGES: readonly CorpusLanguage[] = ['typescript', 'python', 'go', 'rust'];
