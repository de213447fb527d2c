/**
 * Keeps the values of a task's secrets out of what it shows: its log, its cells' recorded
 * outputs and its error. The runner knows only the NAMES of the environment variables that
 * hold secrets (from the invocation) and reads their values from its own environment.
 */

/** Values shorter than this are not redacted: replacing every "1" or "on" would ruin the log and hide nothing. */
export const MIN_SECRET_LENGTH = 4;

interface Secret {
  value: string;
  label: string;
}

interface Span {
  start: number;
  end: number;
  names: string[];
}

/** Replaces every occurrence of a secret's value with `[secret NAME]`. */
export class SecretRedactor {
  private readonly secrets: Secret[];

  /**
   * `secrets`: environment variable name -> value. A value is matched as it is and, when
   * different, trimmed (a secret file's trailing newline rarely survives into what code prints).
   */
  constructor(secrets: Record<string, string>) {
    const byValue = new Map<string, string[]>();
    for (const [name, raw] of Object.entries(secrets)) {
      for (const value of new Set([raw, raw.trim()])) {
        if (value.length < MIN_SECRET_LENGTH) continue;
        byValue.set(value, [...(byValue.get(value) ?? []), name]);
      }
    }
    this.secrets = [...byValue].map(([value, names]) => ({ value, label: names.join(',') }));
  }

  /** The redactor for the variables `names` of `env` (names that are unset or too short are ignored). */
  static fromEnv(names: readonly string[], env: NodeJS.ProcessEnv = process.env): SecretRedactor {
    const secrets: Record<string, string> = {};
    for (const name of names) {
      const value = env[name];
      if (value !== undefined) secrets[name] = value;
    }
    return new SecretRedactor(secrets);
  }

  /** Whether there is anything to redact (callers skip their work when not). */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** `text` with every secret value replaced. */
  redact(text: string): string {
    if (!this.active) return text;
    return render(text, this.spans(text), text.length);
  }

  /** Every string inside `value` (objects and arrays walked, a copy returned) redacted. */
  redactDeep<T>(value: T): T {
    if (!this.active) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

  /**
   * A redactor for one stream written in chunks: a value split across two writes is still
   * replaced, because the end of a chunk that could be the start of a value is held back
   * until the next chunk (or {@link StreamRedactor.flush}) decides.
   */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }

  /** Occurrences of any value (overlapping ones merged into one span naming every secret in it). */
  spans(text: string): Span[] {
    const found: Span[] = [];
    for (const s of this.secrets) {
      for (let i = text.indexOf(s.value); i >= 0; i = text.indexOf(s.value, i + 1)) found.push({ start: i, end: i + s.value.length, names: [s.label] });
    }
    found.sort((a, b) => a.start - b.start);
    const merged: Span[] = [];
    for (const span of found) {
      const last = merged[merged.length - 1];
      if (last !== undefined && span.start < last.end) {
        last.end = Math.max(last.end, span.end);
        if (!last.names.includes(span.names[0])) last.names.push(span.names[0]);
      } else merged.push({ ...span, names: [...span.names] });
    }
    return merged;
  }

  /** Length of the longest end of `text` that is the beginning (but not the whole) of some value. */
  heldTail(text: string): number {
    let longest = 0;
    for (const { value } of this.secrets) {
      for (let k = Math.min(value.length - 1, text.length); k > longest; k--) {
        if (text.endsWith(value.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}

/** `text` up to `cut` with the spans ending there replaced. */
function render(text: string, spans: Span[], cut: number): string {
  let out = '';
  let at = 0;
  for (const span of spans) {
    if (span.end > cut) break;
    out += `${text.slice(at, span.start)}[secret ${span.names.join(',')}]`;
    at = span.end;
  }
  return out + text.slice(at, cut);
}

/** See {@link SecretRedactor.stream}. */
export class StreamRedactor {
  private pending = '';

  constructor(private readonly redactor: SecretRedactor) {}

  /** What may be written now of everything pushed so far. */
  push(chunk: string): string {
    const text = this.pending + chunk;
    const spans = this.redactor.spans(text);
    let cut = text.length - this.redactor.heldTail(text);
    // Never cut through a match: it is either written whole (redacted) or held whole.
    for (const span of spans) if (span.start < cut && span.end > cut) cut = span.start;
    this.pending = text.slice(cut);
    return render(text, spans, cut);
  }

  /** Whatever is held back, redacted (at the end of the stream). */
  flush(): string {
    const rest = this.redactor.redact(this.pending);
    this.pending = '';
    return rest;
  }
}
