/**
 * What notebook code sees of the run it is in: runInfo(), metric()/metrics() and display,
 * recorded into the run context inside a task and printed interactively.
 */
import { display, metric, metrics, newDisplay, runInfo } from '../index';
import { DisplayRequest, RunContext, setCurrentRun } from '../runtime';

let displayed: DisplayRequest[];
let ctx: RunContext;

beforeEach(() => {
  displayed = [];
  ctx = { info: { runId: 'r-1', task: 'train', attempt: 2 }, params: {}, metrics: {}, display: (d) => displayed.push(d) };
});
afterEach(() => {
  setCurrentRun(undefined);
  jest.restoreAllMocks();
});

describe('runInfo', () => {
  it('is undefined interactively and names the task attempt in a run', () => {
    expect(runInfo()).toBeUndefined();
    setCurrentRun(ctx);
    expect(runInfo()).toStrictEqual({ runId: 'r-1', task: 'train', attempt: 2 });
  });
});

describe('metric', () => {
  it("records into the run's metrics in a run, without printing", () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    setCurrentRun(ctx);
    metric('accuracy', 0.93);
    metric('model', 'tree');
    metric('converged', true);
    metric('accuracy', 0.95);
    expect(ctx.metrics).toStrictEqual({ accuracy: 0.95, model: 'tree', converged: true });
    expect(metrics()).toStrictEqual(ctx.metrics);
    expect(metrics()).not.toBe(ctx.metrics);
    expect(log).not.toHaveBeenCalled();
  });

  it('prints and keeps metrics interactively', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    metric('rows', 150);
    expect(log).toHaveBeenCalledWith('metric rows = 150');
    expect(metrics()).toMatchObject({ rows: 150 });
  });

  it('refuses non-finite numbers, other value types and bad names', () => {
    setCurrentRun(ctx);
    expect(() => metric('loss', NaN)).toThrow(TypeError);
    expect(() => metric('loss', Infinity)).toThrow(/finite/);
    expect(() => metric('obj', { a: 1 } as never)).toThrow(TypeError);
    expect(() => metric('', 1)).toThrow(/name/);
    expect(() => metric('x'.repeat(257), 1)).toThrow(/name/);
    expect(ctx.metrics).toStrictEqual({});
  });
});

describe('display', () => {
  it('records rich outputs in a run, binary ones base64-encoded', () => {
    setCurrentRun(ctx);
    display.html('<b>hi</b>');
    display.markdown('# title');
    display.png(new Uint8Array([137, 80, 78, 71]));
    display.raw('application/json', '{"a":1}');
    expect(displayed).toStrictEqual([
      { data: { 'text/html': '<b>hi</b>' }, metadata: {}, displayId: undefined },
      { data: { 'text/markdown': '# title' }, metadata: {}, displayId: undefined },
      { data: { 'image/png': Buffer.from([137, 80, 78, 71]).toString('base64') }, metadata: {}, displayId: undefined },
      { data: { 'application/json': '{"a":1}' }, metadata: {}, displayId: undefined }
    ]);
  });

  it('gives each newDisplay() its own stable display id', () => {
    setCurrentRun(ctx);
    const a = newDisplay();
    const b = newDisplay();
    a.text('0%');
    a.text('100%');
    b.text('other');
    expect(displayed[0].displayId).toMatch(/^[0-9a-f]{16}$/);
    expect(displayed[1].displayId).toBe(displayed[0].displayId);
    expect(displayed[2].displayId).not.toBe(displayed[0].displayId);
  });

  it('prints interactively outside the tslab kernel', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    display.html('<i>x</i>');
    display.png(new Uint8Array(3));
    expect(log.mock.calls).toStrictEqual([['<i>x</i>'], ['[image/png, 3 bytes]']]);
  });
});
