import { migrateV0, readCellAnnotation } from '..';

describe('readCellAnnotation', () => {
  it('reads task and role annotations', () => {
    expect(readCellAnnotation({ cellgraph: { task: 'train', retries: 2, after: ['load'] } })).toEqual({
      ok: true,
      annotation: { task: 'train', retries: 2, after: ['load'] }
    });
    expect(readCellAnnotation({ cellgraph: { role: 'setup' } })).toEqual({ ok: true, annotation: { role: 'setup' } });
    expect(readCellAnnotation({})).toEqual({ ok: true, annotation: undefined });
    expect(readCellAnnotation(undefined)).toEqual({ ok: true, annotation: undefined });
  });

  it.each([
    [{ cellgraph: { task: '../../etc/passwd' } }, 'cellgraph.task', /must match/],
    [{ cellgraph: { task: '$(rm -rf ~)' } }, 'cellgraph.task', /must match/],
    [{ cellgraph: { task: 'Train' } }, 'cellgraph.task', /must match/],
    [{ cellgraph: { task: 'a'.repeat(64) } }, 'cellgraph.task', /at most 63/],
    [{ cellgraph: { task: 'a', retries: -1 } }, 'cellgraph.retries', /greater than or equal to 0/],
    [{ cellgraph: { task: 'a', colour: 'red' } }, 'cellgraph', /unknown field\(s\): colour/],
    [{ cellgraph: { task: 'a', resources: { memory: 'lots' } } }, 'cellgraph.resources.memory', /memory quantity/],
    [{ cellgraph: { task: 'a', env: { 'BAD-NAME': 'x' } } }, 'cellgraph.env.BAD-NAME', /must match/],
    [{ cellgraph: { role: 'exploration' } }, 'cellgraph.role', /Invalid enum value/],
    [{ cellgraph: { neither: 1 } }, 'cellgraph', /needs a "task"/],
    [{ cellgraph: 'train' }, 'cellgraph', /must be a JSON object/],
    [{ cellgraph: { version: 7, task: 'a' } }, 'cellgraph.version', /unsupported version 7/]
  ])('refuses %j at %s', (metadata, path, message) => {
    const r = readCellAnnotation(metadata);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0].path).toBe(path);
    expect(r.issues[0].message).toMatch(message);
  });
});

describe('migrateV0 (Kale and papermill tags)', () => {
  it('turns Kale block/prev/gpu tags into a task annotation', () => {
    expect(migrateV0({ tags: ['block:train', 'prev:load', 'prev:split', 'limit:nvidia.com/gpu:1'] })).toEqual({
      version: 1,
      task: 'train',
      after: ['load', 'split'],
      resources: { gpu: 1 }
    });
  });
  it('maps imports/functions to setup, pipeline-parameters and papermill parameters to parameters, skip to skip', () => {
    expect(migrateV0({ tags: ['imports'] })).toEqual({ version: 1, role: 'setup' });
    expect(migrateV0({ tags: ['functions'] })).toEqual({ version: 1, role: 'setup' });
    expect(migrateV0({ tags: ['pipeline-parameters'] })).toEqual({ version: 1, role: 'parameters' });
    expect(migrateV0({ tags: ['parameters'] })).toEqual({ version: 1, role: 'parameters' });
    expect(migrateV0({ tags: ['skip'] })).toEqual({ version: 1, role: 'skip' });
    expect(migrateV0({ tags: ['hide-input'] })).toBeUndefined();
  });
  it('is applied by readCellAnnotation when no cellgraph key exists, and validated', () => {
    expect(readCellAnnotation({ tags: ['block:load'] })).toEqual({ ok: true, annotation: { version: 1, task: 'load' }, migratedFrom: 0 });
    const bad = readCellAnnotation({ tags: ['block:Bad Name'] });
    expect(bad.ok).toBe(false);
  });
  it('prefers an explicit cellgraph annotation over tags', () => {
    expect(readCellAnnotation({ cellgraph: { role: 'skip' }, tags: ['block:x'] })).toEqual({ ok: true, annotation: { role: 'skip' } });
  });
});
