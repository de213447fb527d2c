/**
 * File and directory artifacts: declared by path, crossing between tasks by content. The
 * producing side uploads the bytes; the consuming side gets its own local copy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DirArtifact, FileArtifact, artifact, contentHash, decodeValue, encodeValue, registerCodec } from '../index';
import { listFiles } from '../artifacts';
import { artifactCollector, uploadArtifacts } from '../runner/artifact-transfer';
import { CodecError } from '../codecs/value-codec';
import { FsStore } from './support/fs-store';
import { Sandbox } from './support/task-process';

jest.setTimeout(60_000);

let tmp: string;
let store: FsStore;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kernel-artifacts-'));
  store = new FsStore(path.join(tmp, 'store'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string, mode?: number): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  if (mode !== undefined) fs.chmodSync(file, mode);
  return file;
}

describe('declaring artifacts', () => {
  it('artifact.file and artifact.dir name the file or directory by its base name', () => {
    const f = artifact.file('out/model.json');
    expect(f).toBeInstanceOf(FileArtifact);
    expect(f).toMatchObject({ name: 'model.json', path: 'out/model.json', ref: undefined });
    const d = artifact.dir('out/reports/');
    expect(d).toBeInstanceOf(DirArtifact);
    expect(d).toMatchObject({ name: 'reports', path: 'out/reports/' });
  });

  it('reads a file artifact as bytes or text, and lists a directory recursively, sorted, with / separators', () => {
    const f = new FileArtifact(write('a/data.txt', 'héllo'));
    expect(f.readText()).toBe('héllo');
    expect(f.read()).toStrictEqual(Buffer.from('héllo'));
    write('d/z.txt', 'z');
    write('d/a/b/c.txt', 'c');
    write('d/m.txt', 'm');
    fs.mkdirSync(path.join(tmp, 'd', 'empty'));
    expect(new DirArtifact(path.join(tmp, 'd')).list()).toStrictEqual(['a/b/c.txt', 'm.txt', 'z.txt']);
    expect(listFiles(path.join(tmp, 'd'))).toStrictEqual(['a/b/c.txt', 'm.txt', 'z.txt']);
  });
});

describe('transfer between tasks', () => {
  it('uploads a file and a directory (with modes), and materializes them as local copies on the other side', async () => {
    const workDir = path.join(tmp, 'producer');
    fs.mkdirSync(workDir);
    write('producer/out/model.json', '{"w":[1,2]}');
    write('producer/out/reports/summary.md', '# ok');
    write('producer/out/reports/bin/run.sh', '#!/bin/sh\necho hi\n', 0o755);
    const value = { model: artifact.file('out/model.json'), extra: [new Map([['reports', artifact.dir('out/reports')]])] };

    const hooks = await uploadArtifacts(value, store, 'bundle', workDir);
    expect(value.model.ref).toStrictEqual({ hash: contentHash('{"w":[1,2]}'), size: 11 });
    const reports = value.extra[0].get('reports') as DirArtifact;
    expect(reports.files).toStrictEqual([
      { path: 'bin/run.sh', hash: contentHash('#!/bin/sh\necho hi\n'), size: 18, mode: 0o755 },
      { path: 'summary.md', hash: contentHash('# ok'), size: 4, mode: expect.any(Number) }
    ]);
    const bytes = encodeValue(value, { path: 'outputs.bundle', hooks });
    // The encoded value refers to content, not to the producer's paths.
    expect(bytes.toString('utf8')).not.toContain(workDir);

    const attemptDir = path.join(tmp, 'consumer-attempt');
    const collector = artifactCollector();
    const back = decodeValue(bytes, { hooks: collector.hooks }) as typeof value;
    await collector.materialize(store, attemptDir);
    expect(back.model).toBeInstanceOf(FileArtifact);
    expect(back.model.name).toBe('model.json');
    expect(back.model.path.startsWith(attemptDir + path.sep)).toBe(true);
    expect(back.model.readText()).toBe('{"w":[1,2]}');
    const dir = back.extra[0].get('reports') as DirArtifact;
    expect(dir).toBeInstanceOf(DirArtifact);
    expect(dir.name).toBe('reports');
    expect(dir.path.startsWith(attemptDir + path.sep)).toBe(true);
    expect(dir.list()).toStrictEqual(['bin/run.sh', 'summary.md']);
    expect(fs.readFileSync(path.join(dir.path, 'bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(fs.statSync(path.join(dir.path, 'bin/run.sh')).mode & 0o111).not.toBe(0);
  });

  it('uploads artifacts held by an instance of a registered class', async () => {
    class Model {
      constructor(readonly weights: FileArtifact) {}
    }
    registerCodec(Model, {
      name: 'artifacts-test.Model',
      encode: (m) => ({ weights: m.weights }) as never,
      decode: (j) => new Model((j as unknown as { weights: FileArtifact }).weights)
    });
    write('w/weights.bin', 'w1');
    const value = new Model(artifact.file('weights.bin'));
    const bytes = encodeValue(value, { hooks: await uploadArtifacts(value, store, 'model', path.join(tmp, 'w')) });
    const collector = artifactCollector();
    const back = decodeValue(bytes, { hooks: collector.hooks }) as Model;
    await collector.materialize(store, path.join(tmp, 'attempt'));
    expect(back).toBeInstanceOf(Model);
    expect(back.weights.ref).toStrictEqual({ hash: contentHash('w1'), size: 2 });
    expect(back.weights.path.startsWith(path.join(tmp, 'attempt') + path.sep)).toBe(true);
    expect(back.weights.readText()).toBe('w1');
  });

  it('materializes an empty directory as an empty directory', async () => {
    fs.mkdirSync(path.join(tmp, 'w', 'empty'), { recursive: true });
    const d = artifact.dir('empty');
    const bytes = encodeValue(d, { hooks: await uploadArtifacts(d, store, 'd', path.join(tmp, 'w')) });
    const collector = artifactCollector();
    const back = decodeValue(bytes, { hooks: collector.hooks }) as DirArtifact;
    await collector.materialize(store, path.join(tmp, 'attempt'));
    expect(fs.statSync(back.path).isDirectory()).toBe(true);
    expect(back.list()).toStrictEqual([]);
  });

  it('refuses a declared file or directory that does not exist, naming the output', async () => {
    await expect(uploadArtifacts({ m: artifact.file('nope.json') }, store, 'model', tmp)).rejects.toThrow(new CodecError('outputs.model', 'artifact file nope.json does not exist'));
    write('file.txt', 'x');
    await expect(uploadArtifacts(artifact.dir('file.txt'), store, 'reports', tmp)).rejects.toThrow(/outputs\.reports: artifact directory file\.txt does not exist/);
  });

  it('refuses a directory entry whose path escapes its directory, and a file name that would', async () => {
    const blob = await store.putBlob(Buffer.from('evil'));
    const escaping = JSON.stringify({ $cg: 'dir', v: { name: 'd', files: [{ path: '../../escaped.txt', ...blob, mode: 0o644 }] } });
    const collector = artifactCollector();
    decodeValue(escaping, { hooks: collector.hooks });
    await expect(collector.materialize(store, path.join(tmp, 'attempt'))).rejects.toThrow(CodecError);
    expect(fs.existsSync(path.join(tmp, 'escaped.txt'))).toBe(false);

    const sneaky = JSON.stringify({ $cg: 'file', v: { name: '../../sneaky.txt', ...blob } });
    const c2 = artifactCollector();
    const f = decodeValue(sneaky, { hooks: c2.hooks }) as FileArtifact;
    await c2.materialize(store, path.join(tmp, 'attempt2'));
    expect(f.path).toBe(path.join(tmp, 'attempt2', 'artifact-0', 'sneaky.txt'));
    expect(f.readText()).toBe('evil');
  });
});

describe('in task processes', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = new Sandbox();
  });
  afterEach(() => sb.cleanup());

  it('passes a file and a directory from a producing task to a consuming task run elsewhere', async () => {
    const header = 'const fs = require("node:fs");\nconst kernel_1 = require("@cellgraph/kernel");';
    const producer = `${header}
module.exports = async function (__cg) {
  await __cg.loadInputs();
  __cg.enterCell(3);
  fs.mkdirSync("out/reports/charts", { recursive: true });
  fs.writeFileSync("out/model.json", JSON.stringify({ weights: [0.5, 0.25] }));
  fs.writeFileSync("out/reports/index.html", "<h1>report</h1>");
  fs.writeFileSync("out/reports/charts/loss.csv", "epoch,loss\\n1,0.3\\n");
  fs.writeFileSync("out/reports/train.sh", "#!/bin/sh\\n", { mode: 0o755 });
  const model = kernel_1.artifact.file("out/model.json");
  const reports = kernel_1.artifact.dir("out/reports");
  return { model, reports };
};`;
    const produced = await sb.runTask(producer, { task: 'train', workDir: sb.workDir('producer'), outputTypes: { model: 'FileArtifact', reports: 'DirArtifact' } });
    expect(produced.result.status).toBe('succeeded');
    const [modelRef, reportsRef] = produced.result.outputs;
    expect(modelRef).toMatchObject({ name: 'model', type: 'FileArtifact' });
    // The file's bytes are in the store under their own hash.
    const modelBytes = Buffer.from(JSON.stringify({ weights: [0.5, 0.25] }));
    expect((await sb.store.getBlob({ hash: contentHash(modelBytes) })).equals(modelBytes)).toBe(true);
    const decoded = decodeValue(await sb.store.getBlob(modelRef)) as FileArtifact;
    expect(decoded).toBeInstanceOf(FileArtifact);
    expect(decoded.ref).toStrictEqual({ hash: contentHash(modelBytes), size: modelBytes.length });

    // A consumer in another directory: it must get copies, not the producer's paths.
    fs.rmSync(path.join(sb.root, 'producer', 'out'), { recursive: true });
    const consumer = `${header}
module.exports = async function (__cg) {
  const { model: model, reports: reports } = await __cg.loadInputs();
  __cg.enterCell(5);
  const weights = JSON.parse(model.readText()).weights;
  const files = reports.list();
  const html = fs.readFileSync(reports.path + "/index.html", "utf8");
  const executable = (fs.statSync(reports.path + "/train.sh").mode & 0o111) !== 0;
  const where = [model.path, reports.path, model.name, reports.name];
  return { weights, files, html, executable, where };
};`;
    const consumed = await sb.runTask(consumer, {
      task: 'evaluate',
      workDir: sb.workDir('consumer'),
      inputs: { model: { hash: modelRef.hash, size: modelRef.size }, reports: { hash: reportsRef.hash, size: reportsRef.size } },
      outputTypes: { weights: 'number[]', files: 'string[]', html: 'string', executable: 'boolean', where: 'string[]' }
    });
    expect(consumed.result.status).toBe('succeeded');
    const out = async (name: string) => decodeValue(await sb.store.getBlob(consumed.result.outputs.find((o) => o.name === name)!));
    expect(await out('weights')).toStrictEqual([0.5, 0.25]);
    expect(await out('files')).toStrictEqual(['charts/loss.csv', 'index.html', 'train.sh']);
    expect(await out('html')).toBe('<h1>report</h1>');
    expect(await out('executable')).toBe(true);
    const [modelPath, reportsPath, modelName, reportsName] = (await out('where')) as string[];
    expect(modelPath.startsWith(consumed.result.attemptDir + path.sep)).toBe(true);
    expect(path.basename(modelPath)).toBe('model.json');
    expect(reportsPath.startsWith(consumed.result.attemptDir + path.sep)).toBe(true);
    expect([modelName, reportsName]).toStrictEqual(['model.json', 'reports']);
  });

  it('fails the producing task when a declared artifact file was never written', async () => {
    const source = `const kernel_1 = require("@cellgraph/kernel");
module.exports = async function (__cg) {
  __cg.enterCell(1);
  const model = kernel_1.artifact.file("out/missing.json");
  return { model };
};`;
    const { result } = await sb.runTask(source, { outputTypes: { model: 'FileArtifact' } });
    expect(result.status).toBe('failed');
    expect(result.outputs).toStrictEqual([]);
    expect(result.error).toMatchObject({ name: 'CodecError', message: 'outputs.model: artifact file out/missing.json does not exist', cell: 1 });
  });
});
