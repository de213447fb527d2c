/** Pod creation pacing: a burst of one second's worth, then a steady rate, callers in order. */
import { CreateThrottle } from '../create-throttle';

it('lets a burst through, then paces creations to the rate', async () => {
  let now = 0;
  const waits: number[] = [];
  const throttle = new CreateThrottle(
    10,
    () => now,
    async (ms) => {
      waits.push(ms);
      now += ms;
    }
  );
  const order: number[] = [];
  await Promise.all(Array.from({ length: 30 }, (_, i) => throttle.take().then(() => order.push(i))));
  expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
  // 10 at once, then 20 more at 10 per second: two seconds of waiting in all.
  expect(waits).toHaveLength(20);
  expect(now).toBeGreaterThanOrEqual(1990);
  expect(now).toBeLessThanOrEqual(2100);
});

it('does not pace when the rate is unlimited, and refuses a rate that is not positive', async () => {
  const throttle = new CreateThrottle(Infinity, () => 0, () => Promise.reject(new Error('must not wait')));
  await Promise.all(Array.from({ length: 100 }, () => throttle.take()));
  expect(() => new CreateThrottle(0)).toThrow(/positive/);
});
