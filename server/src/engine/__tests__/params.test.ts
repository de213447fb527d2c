import type { ParamSpec } from '@cellgraph/schema';
import { checkParamKinds, parseParamAssignments } from '../params';

const specs: ParamSpec[] = [
  { name: 'learningRate', kind: 'number', type: 'number', default: 0.1, constrained: false, cell: 1 },
  { name: 'name', kind: 'string', type: 'string', default: 'world', constrained: false, cell: 1 },
  { name: 'verbose', kind: 'boolean', type: 'boolean', default: false, constrained: false, cell: 1 },
  { name: 'layers', kind: 'json', type: 'number[]', default: [4, 4], constrained: false, cell: 1 }
];

describe('parseParamAssignments', () => {
  it('parses each value by its declared kind', () => {
    expect(parseParamAssignments(specs, ['learningRate=0.05', 'name=a=b', 'verbose=true', 'layers=[8,2]'])).toEqual({
      learningRate: 0.05,
      name: 'a=b',
      verbose: true,
      layers: [8, 2]
    });
  });

  it.each([
    [['learningRate=fast'], /parameter "learningRate" \(number\): must be a number, got "fast"/],
    [['learningRate='], /must be a number/],
    [['verbose=yes'], /must be true or false/],
    [['layers=[1,'], /parameter "layers" \(number\[\]\): must be JSON/],
    [['epochs=3'], /unknown parameter "epochs"; this workflow has: learningRate, name, verbose, layers/],
    [['noequals'], /expected name=value/]
  ])('refuses %j with a message naming the parameter', (args, message) => {
    expect(() => parseParamAssignments(specs, args)).toThrow(message);
  });

  it('names the field at fault', () => {
    try {
      parseParamAssignments(specs, ['learningRate=x']);
      throw new Error('expected a failure');
    } catch (e) {
      expect(e).toMatchObject({ name: 'ValidationError', field: 'params.learningRate' });
    }
  });
});

describe('checkParamKinds', () => {
  it('accepts typed values and refuses wrong types and unknown names', () => {
    expect(checkParamKinds(specs, { learningRate: 1, layers: { a: 1 } })).toEqual({ learningRate: 1, layers: { a: 1 } });
    expect(() => checkParamKinds(specs, { learningRate: '1' })).toThrow(/must be number/);
    expect(() => checkParamKinds(specs, { learningRate: Infinity })).toThrow(/must be number/);
    expect(() => checkParamKinds(specs, { nope: 1 })).toThrow(/unknown parameter "nope"/);
  });
});
