/**
 * `cellgraph init`: a folder's notebooks get @cellgraph/kernel (a link to the installed one,
 * recorded in package.json) without a hand-made package.json; nothing is written when the
 * library already resolves, or when package.json is broken.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initProject, kernelVisibleFrom } from '../project-init';

let root: string;
let kernel: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-init-'));
  // Stands in for an installed @cellgraph/kernel.
  kernel = path.join(root, 'installed', 'kernel');
  fs.mkdirSync(kernel, { recursive: true });
  fs.writeFileSync(path.join(kernel, 'package.json'), '{"name": "@cellgraph/kernel", "version": "0.1.0"}');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const project = (name: string): string => {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

it('links the kernel library and creates package.json; notebooks in subfolders see it', () => {
  const dir = project('analysis-Project');
  expect(kernelVisibleFrom(dir)).toBeUndefined();
  const r = initProject(dir, kernel);
  expect(r).toMatchObject({ kernel: 'linked', packageJson: 'created', kernelDir: kernel });
  expect(fs.realpathSync(path.join(dir, 'node_modules', '@cellgraph', 'kernel'))).toBe(fs.realpathSync(kernel));
  expect(readJson(path.join(dir, 'package.json'))).toEqual({ name: 'analysis-project', private: true, dependencies: { '@cellgraph/kernel': `file:${kernel}` } });
  const sub = path.join(dir, 'deep', 'er');
  fs.mkdirSync(sub, { recursive: true });
  expect(kernelVisibleFrom(sub)).toBe(path.join(dir, 'node_modules', '@cellgraph', 'kernel'));
});

it('is a no-op when the library already resolves (a second run, or a subfolder of a project)', () => {
  const dir = project('p');
  initProject(dir, kernel);
  const before = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
  expect(initProject(dir, kernel)).toMatchObject({ kernel: 'present', resolvedFrom: dir });
  const sub = project('p/notebooks');
  expect(initProject(sub, kernel)).toMatchObject({ kernel: 'present', resolvedFrom: dir });
  expect(fs.existsSync(path.join(sub, 'package.json'))).toBe(false);
  expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(before);
});

it('adds the dependency to an existing package.json and keeps its other fields', () => {
  const dir = project('existing');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'mine', version: '2.0.0', dependencies: { zod: '3.25.76' } }));
  expect(initProject(dir, kernel).packageJson).toBe('updated');
  expect(readJson(path.join(dir, 'package.json'))).toEqual({ name: 'mine', version: '2.0.0', dependencies: { zod: '3.25.76', '@cellgraph/kernel': `file:${kernel}` } });
});

it('replaces a dangling link left by a moved installation', () => {
  const dir = project('moved');
  fs.mkdirSync(path.join(dir, 'node_modules', '@cellgraph'), { recursive: true });
  fs.symlinkSync(path.join(root, 'gone'), path.join(dir, 'node_modules', '@cellgraph', 'kernel'), 'dir');
  expect(initProject(dir, kernel).kernel).toBe('linked');
  expect(fs.realpathSync(path.join(dir, 'node_modules', '@cellgraph', 'kernel'))).toBe(fs.realpathSync(kernel));
});

it('refuses a broken package.json or a missing folder, naming it, and writes nothing', () => {
  const dir = project('broken');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name": ');
  expect(() => initProject(dir, kernel)).toThrow(/broken\/package\.json is not valid JSON/);
  expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);
  expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe('{"name": ');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"dependencies": []}');
  expect(() => initProject(dir, kernel)).toThrow(/"dependencies" is not an object/);
  expect(() => initProject(path.join(root, 'nope'), kernel)).toThrow(/nope is not a directory/);
});
