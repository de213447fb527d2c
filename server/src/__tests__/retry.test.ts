import { backoffDelay, retry, sleep } from '../retry';

describe('backoffDelay (full jitter)', () => {
  const policy = { baseMs: 100, maxMs: 1000 };

  it('draws from [0, base * 2^(n-1)], capped at maxMs', () => {
    expect([1, 2, 3, 4, 5, 60].map((n) => backoffDelay(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 5, 60].map((n) => backoffDelay(policy, n, () => 0))).toEqual([0, 0, 0, 0]);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
  });

  it('stays within its bounds for random draws and huge retry numbers', () => {
    for (let n = 1; n < 2000; n += 7) {
      const d = backoffDelay(policy, n);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** (n - 1)));
      expect(Number.isFinite(d)).toBe(true);
    }
  });
});

describe('retry', () => {
  const fast = { baseMs: 1, maxMs: 4 };

  it('returns the first success and passes attempt numbers', async () => {
    const seen: number[] = [];
    const value = await retry(
      async (n) => {
        seen.push(n);
        if (n < 3) throw new Error(`boom ${n}`);
        return 'ok';
      },
      { ...fast, attempts: 5 }
    );
    expect(value).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('throws the last error once the attempts are spent, reporting each retry', async () => {
    const retries: { attempt: number; delayMs: number }[] = [];
    let calls = 0;
    await expect(
      retry(
        async (n) => {
          calls++;
          throw new Error(`boom ${n}`);
        },
        { ...fast, attempts: 3, onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }) }
      )
    ).rejects.toThrow('boom 3');
    expect(calls).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([2, 3]);
    for (const r of retries) expect(r.delayMs).toBeLessThanOrEqual(4);
  });

  it('stops at once on an error that is not retryable', async () => {
    class Fatal extends Error {}
    let calls = 0;
    const started = Date.now();
    await expect(
      retry(
        async () => {
          calls++;
          throw new Fatal('refused');
        },
        { baseMs: 10_000, maxMs: 10_000, attempts: 10, retryable: (e) => !(e instanceof Fatal) }
      )
    ).rejects.toBeInstanceOf(Fatal);
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up when the time budget is spent, however many attempts remain', async () => {
    let calls = 0;
    const started = Date.now();
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('down');
        },
        { baseMs: 50, maxMs: 50, attempts: Infinity, deadlineMs: 400, random: () => 1 }
      )
    ).rejects.toThrow('down');
    const took = Date.now() - started;
    // Waits of 50 ms: about eight attempts fit in 400 ms, and no wait is begun that would end past it.
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThanOrEqual(9);
    expect(took).toBeLessThan(700);
  });

  it('does not begin a wait that would end past the deadline', async () => {
    let calls = 0;
    const started = Date.now();
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('down');
        },
        { baseMs: 5000, maxMs: 5000, attempts: 5, deadlineMs: 1000, random: () => 1 }
      )
    ).rejects.toThrow('down');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('resumes mid-budget: waits first, and counts earlier attempts', async () => {
    const seen: number[] = [];
    await expect(
      retry(
        async (n) => {
          seen.push(n);
          throw new Error('still down');
        },
        { ...fast, attempts: 4, firstAttempt: 3 }
      )
    ).rejects.toThrow('still down');
    expect(seen).toEqual([3, 4]);
  });

  it('an abort cuts the wait short and rejects with the last error', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = retry(
      async () => {
        throw new Error('down');
      },
      { baseMs: 60_000, maxMs: 60_000, attempts: 3, random: () => 1, signal: controller.signal }
    );
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow('down');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('sleep', () => {
  it('resolves true after the time, false when aborted', async () => {
    expect(await sleep(5)).toBe(true);
    const c = new AbortController();
    c.abort();
    expect(await sleep(60_000, c.signal)).toBe(false);
  });
});
