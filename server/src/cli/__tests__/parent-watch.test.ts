import { processExists, watchProcess } from '../parent-watch';

describe('watchProcess: the development server stops when JupyterLab does', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls back once, after the watched process is gone', () => {
    let alive = true;
    const gone = jest.fn();
    watchProcess(42, gone, 1000, () => alive);
    jest.advanceTimersByTime(5000);
    expect(gone).not.toHaveBeenCalled();
    alive = false;
    jest.advanceTimersByTime(1000);
    jest.advanceTimersByTime(5000);
    expect(gone).toHaveBeenCalledTimes(1);
  });

  it('can be stopped', () => {
    const gone = jest.fn();
    const stop = watchProcess(42, gone, 1000, () => false);
    stop();
    jest.advanceTimersByTime(5000);
    expect(gone).not.toHaveBeenCalled();
  });
});

describe('processExists', () => {
  it('sees this process, and not a pid past the kernel maximum', () => {
    expect(processExists(process.pid)).toBe(true);
    expect(processExists(2 ** 22 + 1)).toBe(false);
  });
});
