import { MIN_SECRET_LENGTH, SecretRedactor } from '../runner/secret-redactor';

describe('SecretRedactor', () => {
  const r = new SecretRedactor({ DB_PASSWORD: 'hunter22', API_KEY: 'k-9f8e7d' });

  it('replaces every occurrence of every secret by its variable name', () => {
    expect(r.redact('db=hunter22 key=k-9f8e7d again hunter22.')).toBe('db=[secret DB_PASSWORD] key=[secret API_KEY] again [secret DB_PASSWORD].');
    expect(r.redact('nothing here')).toBe('nothing here');
  });

  it('matches a value with its trailing newline and without it (secret files end in one)', () => {
    const fromFile = new SecretRedactor({ TOKEN: 'tok-abcdef\n' });
    expect(fromFile.redact('token is tok-abcdef.')).toBe('token is [secret TOKEN].');
    expect(fromFile.redact('tok-abcdef\n\n')).toBe('[secret TOKEN]\n');
  });

  it('leaves values too short to be secrets, and unset variables, alone', () => {
    const short = SecretRedactor.fromEnv(['ONE', 'UNSET', 'LONG'], { ONE: '1'.repeat(MIN_SECRET_LENGTH - 1), LONG: 'long-value' });
    expect(short.redact('111 long-value')).toBe('111 [secret LONG]');
    expect(SecretRedactor.fromEnv(['UNSET'], {}).active).toBe(false);
  });

  it('covers overlapping and nested values whole, leaving no fragment of either', () => {
    const o = new SecretRedactor({ A: 'abcd', B: 'cdef', OUTER: 'xxabcdxx' });
    expect(o.redact('-abcdef-')).toBe('-[secret A,B]-');
    expect(o.redact('-xxabcdxx-')).toBe('-[secret OUTER,A]-');
    const same = new SecretRedactor({ ONE: 'same-value', TWO: 'same-value' });
    expect(same.redact('same-value')).toBe('[secret ONE,TWO]');
  });

  it('redacts strings anywhere inside displayed data and leaves other values', () => {
    const display = { data: { 'text/html': ['<b>hunter22</b>'], 'application/json': { nested: 'k-9f8e7d', n: 3, ok: true, none: null } } };
    expect(r.redactDeep(display)).toStrictEqual({
      data: { 'text/html': ['<b>[secret DB_PASSWORD]</b>'], 'application/json': { nested: '[secret API_KEY]', n: 3, ok: true, none: null } }
    });
    expect(display.data['text/html'][0]).toBe('<b>hunter22</b>');
  });

  describe('a stream written in chunks', () => {
    const written = (chunks: string[], redactor = r) => {
      const s = redactor.stream();
      const parts = chunks.map((c) => s.push(c));
      return { parts, all: parts.join('') + s.flush() };
    };

    it('catches a value split across writes, holding back only what could start a value', () => {
      const { parts, all } = written(['pass: hun', 'ter', '22\n', 'done\n']);
      expect(all).toBe('pass: [secret DB_PASSWORD]\ndone\n');
      expect(parts[0]).toBe('pass: ');
      expect(parts.join('')).not.toMatch(/hun|ter22/);
    });

    it('passes text through at once when no value could begin at its end', () => {
      expect(written(['hello\n', 'world\n']).parts).toStrictEqual(['hello\n', 'world\n']);
    });

    it('writes a held-back start that turned out not to be a value', () => {
      expect(written(['say hu', 'llo']).all).toBe('say hullo');
      expect(written(['ends with hun']).all).toBe('ends with hun');
    });

    it('splits values one character per write, and overlapping values across writes', () => {
      expect(written([...'x hunter22 k-9f8e7d y']).all).toBe('x [secret DB_PASSWORD] [secret API_KEY] y');
      const o = new SecretRedactor({ A: 'abcd', B: 'cdef' });
      const { parts, all } = written(['-ab', 'cd', 'ef-'], o);
      expect(all).toBe('-[secret A,B]-');
      expect(parts.join('')).not.toMatch(/ab|ef/);
    });
  });
});
