import type { ParamSpec } from '@cellgraph/schema';
import { paramText, parseParam } from '../promote';

const spec = (kind: ParamSpec['kind'], type: string, value: ParamSpec['default']): ParamSpec => ({ name: 'p', kind, type, default: value, constrained: false, cell: 0 });

describe('promote dialog parameters (the schema parser)', () => {
  it('parses each input by the parameter kind, and shows defaults as text that parses back', () => {
    expect(parseParam(spec('number', 'number', 1), ' 2.5 ')).toEqual({ ok: true, value: 2.5 });
    expect(parseParam(spec('string', 'string', 'a'), '007')).toEqual({ ok: true, value: '007' });
    expect(parseParam(spec('boolean', 'boolean', false), 'true')).toEqual({ ok: true, value: true });
    expect(parseParam(spec('json', 'number[]', [1]), '[1, 2]')).toEqual({ ok: true, value: [1, 2] });
    const layers = spec('json', 'number[]', [4, 4]);
    expect(parseParam(layers, paramText(layers))).toEqual({ ok: true, value: [4, 4] });
  });

  it('says what is wrong, naming the parameter', () => {
    expect(parseParam(spec('number', 'number', 1), 'x')).toEqual({ ok: false, message: 'parameter "p" (number): must be a number, got "x"' });
    expect(parseParam(spec('boolean', 'boolean', false), 'yes')).toEqual({ ok: false, message: 'parameter "p" (boolean): must be true or false, got "yes"' });
    expect(parseParam(spec('json', 'number[]', []), '[')).toEqual({ ok: false, message: 'parameter "p" (number[]): must be JSON, got "["' });
  });
});
