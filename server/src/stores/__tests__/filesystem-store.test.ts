import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FilesystemStore, sha256 } from '..';

describe('FilesystemStore', () => {
  let root: string;
  let store: FilesystemStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-store-'));
    store = new FilesystemStore(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('stores blobs by content hash, once', async () => {
    const ref = await store.putBlob(Buffer.from('hello'));
    expect(ref).toEqual({ hash: sha256('hello'), size: 5 });
    await store.putBlob(Buffer.from('hello'));
    expect((await store.getBlob(ref)).toString()).toBe('hello');
    expect(await store.hasBlob(ref.hash)).toBe(true);
  });

  it('refuses a blob whose bytes no longer match its hash', async () => {
    const ref = await store.putBlob(Buffer.from('value'));
    const hex = ref.hash.slice('sha256:'.length);
    fs.writeFileSync(path.join(root, 'objects', 'sha256', hex.slice(0, 2), hex), 'tampered');
    await expect(store.getBlob(ref)).rejects.toMatchObject({ name: 'IntegrityError' });
  });

  it('reports a missing blob or file as NotFoundError', async () => {
    await expect(store.getBlob({ hash: sha256('absent') })).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(store.getFile('runs/x/result.json')).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('writes keyed files and refuses keys that escape the store', async () => {
    await store.putFile('runs/r-1/tasks/a/attempt-1/log.txt', 'out');
    expect((await store.getFile('runs/r-1/tasks/a/attempt-1/log.txt')).toString()).toBe('out');
    for (const key of ['../x', 'runs/../../etc/passwd', '/etc/passwd', 'a//b', 'a/./b', '', 'a/$(rm -rf ~)']) {
      await expect(store.putFile(key, 'x')).rejects.toMatchObject({ name: 'ValidationError' });
    }
    await expect(store.getBlob({ hash: 'sha256:../../etc' })).rejects.toMatchObject({ name: 'ValidationError' });
    expect(fs.readdirSync(root).sort()).toEqual(['runs']);
  });

  it('leaves no temporary files behind', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.putFile('a/b.json', String(i))));
    expect(fs.readdirSync(path.join(root, 'a'))).toEqual(['b.json']);
  });
});
