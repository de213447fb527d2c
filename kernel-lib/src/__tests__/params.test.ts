/**
 * param(): the default interactively, the run's value inside a task, both checked by the
 * schema; refusals are ParamErrors naming the parameter.
 */
import { z } from 'zod';
import { ParamError, param } from '../index';
import { RunContext, setCurrentRun } from '../runtime';

function inRun<T>(params: RunContext['params'], fn: () => T): T {
  setCurrentRun({ params, metrics: {}, display: () => undefined });
  try {
    return fn();
  } finally {
    setCurrentRun(undefined);
  }
}

function paramError(fn: () => unknown): ParamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParamError);
    return e as ParamError;
  }
  throw new Error('expected a ParamError, nothing was thrown');
}

afterEach(() => setCurrentRun(undefined));

describe('outside a run (interactive notebook)', () => {
  it('returns the default', () => {
    expect(param('epochs', z.number().int().min(1), 10)).toBe(10);
    expect(param('names', z.array(z.string()), ['a', 'b'])).toStrictEqual(['a', 'b']);
  });

  it('checks the default too', () => {
    const err = paramError(() => param('epochs', z.number().int().min(1), 0));
    expect(err.param).toBe('epochs');
    expect(err.message).toContain('parameter "epochs"');
    expect(err.message).toContain('got 0');
  });
});

describe('inside a run', () => {
  it("returns the run's value when one was given", () => {
    expect(inRun({ epochs: 5 }, () => param('epochs', z.number().int().min(1), 10))).toBe(5);
  });

  it('returns the default for a parameter the run did not set', () => {
    expect(inRun({ other: 1 }, () => param('epochs', z.number().int().min(1), 10))).toBe(10);
  });

  it('uses a value given as null (an explicit override), not the default', () => {
    expect(inRun({ limit: null }, () => param('limit', z.number().nullable(), 100))).toBeNull();
  });

  it('does not take values from Object.prototype for a parameter named like one of its keys', () => {
    expect(inRun({}, () => param('toString', z.string(), 'dflt'))).toBe('dflt');
  });

  it("returns the schema's parsed value (coercions, defaults, transforms)", () => {
    expect(inRun({ n: '7' }, () => param('n', z.coerce.number(), 1))).toBe(7);
    expect(inRun({ cfg: {} }, () => param('cfg', z.object({ depth: z.number().default(3) }), { depth: 1 }))).toStrictEqual({ depth: 3 });
    expect(inRun({ name: '  iris ' }, () => param('name', z.string().trim(), 'x'))).toBe('iris');
  });

  it('throws a ParamError naming the parameter when the value fails the schema', () => {
    const err = inRun({ epochs: 0 }, () => paramError(() => param('epochs', z.number().int().min(1), 10)));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ParamError');
    expect(err.param).toBe('epochs');
    expect(err.message).toMatch(/^parameter "epochs": /);
    expect(err.message).toContain('got 0');
  });

  it('reports a wrongly typed value and where inside a structured value the problem is', () => {
    const wrongType = inRun({ rate: 'fast' }, () => paramError(() => param('rate', z.number(), 0.1)));
    expect(wrongType.param).toBe('rate');
    expect(wrongType.message).toContain('"fast"');

    const schema = z.object({ layers: z.array(z.object({ units: z.number().positive() })) });
    const nested = inRun({ model: { layers: [{ units: 4 }, { units: -1 }] } }, () => paramError(() => param('model', schema, { layers: [] })));
    expect(nested.param).toBe('model');
    expect(nested.message).toContain('(at layers.1.units)');
  });

  it('does not fall back to the default when the given value is invalid', () => {
    expect(() => inRun({ k: 'x' }, () => param('k', z.number(), 3))).toThrow(ParamError);
  });
});
