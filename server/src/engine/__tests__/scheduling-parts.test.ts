import type { TaskIR } from '@cellgraph/schema';
import { taskCacheKey } from '../cache-key';
import { newRunId } from '../run-id';
import { Slots } from '../slots';

const h = (c: string) => `sha256:${c.repeat(64)}`;
const task: Pick<TaskIR, 'name' | 'codeHash' | 'params' | 'policy'> = {
  name: 'train',
  codeHash: h('a'),
  params: ['lr'],
  policy: { retries: 0, cache: true, resources: {}, env: {}, secrets: [] }
};

describe('taskCacheKey', () => {
  const base = taskCacheKey({}, task, { rows: { hash: h('1') } }, { lr: 0.1, other: 1 });
  it('is stable and ignores parameters the task does not read', () => {
    expect(taskCacheKey({}, task, { rows: { hash: h('1') } }, { other: 2, lr: 0.1 })).toBe(base);
  });
  it('changes with code, inputs, parameters read, env and image', () => {
    expect(taskCacheKey({}, { ...task, codeHash: h('b') }, { rows: { hash: h('1') } }, { lr: 0.1 })).not.toBe(base);
    expect(taskCacheKey({}, task, { rows: { hash: h('2') } }, { lr: 0.1 })).not.toBe(base);
    expect(taskCacheKey({}, task, { rows: { hash: h('1') } }, { lr: 0.2 })).not.toBe(base);
    expect(taskCacheKey({}, { ...task, policy: { ...task.policy, env: { A: '1' } } }, { rows: { hash: h('1') } }, { lr: 0.1 })).not.toBe(base);
    expect(taskCacheKey({ image: { reference: 'r', digest: h('d') } }, task, { rows: { hash: h('1') } }, { lr: 0.1 })).not.toBe(base);
  });
  it('changes with the folder the task runs in (relative files), unless an image holds the files', () => {
    const inA = taskCacheKey({}, task, { rows: { hash: h('1') } }, { lr: 0.1 }, '/w/a');
    expect(taskCacheKey({}, task, { rows: { hash: h('1') } }, { lr: 0.1 }, '/w/b')).not.toBe(inA);
    expect(taskCacheKey({}, task, { rows: { hash: h('1') } }, { lr: 0.1 }, '/w/a')).toBe(inA);
    const image = { image: { reference: 'r', digest: h('d') } };
    expect(taskCacheKey(image, task, { rows: { hash: h('1') } }, { lr: 0.1 }, '/w/a')).toBe(taskCacheKey(image, task, { rows: { hash: h('1') } }, { lr: 0.1 }, '/app/work'));
  });
});

describe('Slots', () => {
  it('never hands out more slots than its capacity, in request order', async () => {
    const slots = new Slots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await slots.acquire();
        order.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        release();
      })
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('newRunId', () => {
  it('is sortable by time and safe as a path segment', () => {
    const id = newRunId(new Date('2026-11-24T15:30:00.123Z'));
    expect(id).toMatch(/^r-20261124t153000-[0-9a-f]{6}$/);
  });
});
