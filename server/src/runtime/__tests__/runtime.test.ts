import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '../../errors';
import { openHome, openRuntime, readKubernetesTarget, stateFile, storeConfigFor } from '..';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-runtime-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('storeConfigFor', () => {
  it('is the filesystem under the home unless CELLGRAPH_STORE names S3', () => {
    expect(storeConfigFor('/h', {})).toEqual({ kind: 'filesystem', root: '/h' });
    expect(storeConfigFor('/h', { CELLGRAPH_STORE: 's3://bucket/runs/', CELLGRAPH_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual({
      kind: 's3',
      bucket: 'bucket',
      prefix: 'runs',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true
    });
  });

  it('refuses anything else, naming CELLGRAPH_STORE', () => {
    expect(() => storeConfigFor('/h', { CELLGRAPH_STORE: '/tmp/x' })).toThrow(expect.objectContaining({ field: 'CELLGRAPH_STORE', message: expect.stringContaining('s3://bucket[/prefix]') }));
    expect(() => storeConfigFor('/h', { CELLGRAPH_STORE: 's3://b', CELLGRAPH_S3_ENDPOINT: 'not a url' })).toThrow(ValidationError);
  });
});

describe('readKubernetesTarget', () => {
  it('names the field and the file at fault', () => {
    const file = path.join(dir, 'target.json');
    fs.writeFileSync(file, JSON.stringify({ serviceAccountName: 7 }));
    expect(() => readKubernetesTarget({ kubeTarget: file }, 'default', {})).toThrow(
      expect.objectContaining({ field: 'kube-target.serviceAccountName', message: expect.stringContaining(`kubernetes target (${file}): serviceAccountName:`) })
    );
    expect(readKubernetesTarget({ namespace: 'ml' }, 'default', {}).namespace).toBe('ml');
  });
});

describe('openRuntime', () => {
  it('opens a home with the local executor: store, state database, engine; close lets go of the database', async () => {
    const home = path.join(dir, '.cellgraph');
    const runtime = await openRuntime({ home, executor: 'local', env: {} });
    try {
      expect(runtime.executor.name).toBe('local');
      expect(runtime.storeConfig).toEqual({ kind: 'filesystem', root: home });
      expect(runtime.where).toBe('local processes');
      expect(fs.existsSync(stateFile(home))).toBe(true);
      expect(await runtime.state.listRuns()).toEqual([]);
      const ir = { name: 'wf' } as never;
      expect(await runtime.prepare({ ir, notebookPath: 'x.ipynb', notebookText: '{}' })).toBe(ir);
    } finally {
      await runtime.close();
    }
    const again = await openHome(home, {});
    expect(again.storeConfig).toEqual(runtime.storeConfig);
    await again.close();
  });

  it('refuses Kubernetes on a store pods cannot reach, naming CELLGRAPH_STORE', async () => {
    const home = path.join(dir, '.cellgraph');
    await expect(openRuntime({ home, executor: 'kubernetes', env: {} })).rejects.toMatchObject({ name: 'ValidationError', field: 'CELLGRAPH_STORE' });
  });
});
