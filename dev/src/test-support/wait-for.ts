/**
 * Polls until `check` returns a value (not undefined) or the time runs out. Tests wait on the
 * state they need this way, never for a fixed time: the deadline only bounds a failure, so
 * make it generous (a loaded machine is slow, not wrong).
 */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
