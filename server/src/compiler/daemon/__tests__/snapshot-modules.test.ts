/**
 * The modules the compile daemon's startup snapshot evaluates (snapshot.ts): the whole
 * compiler with TypeScript, zod and @cellgraph/schema, resolved as Node resolves them, so a
 * daemon started from the snapshot loads none of them from disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compilerModules } from '../snapshot';

/** The built compiler, as the daemon runs it (the snapshot evaluates built CommonJS files). */
const compilerDir = path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'compiler');

it('holds every module the compiler loads, resolved as Node resolves them, and no built-in', () => {
  const modules = compilerModules([path.join(compilerDir, 'index'), path.join(compilerDir, 'check-cache'), path.join(compilerDir, 'daemon', 'protocol')]);
  const files = new Set(modules.map((m) => m.file));
  for (const m of modules) {
    expect(path.isAbsolute(m.file)).toBe(true);
    expect(fs.existsSync(m.file)).toBe(true);
    for (const [spec, target] of Object.entries(m.requires)) {
      expect(spec.startsWith('node:')).toBe(false);
      expect(path.isAbsolute(target) && fs.existsSync(target)).toBe(true);
    }
  }
  // The big ones, by path (under jest, @cellgraph/schema resolves to its TypeScript sources, which a snapshot cannot evaluate;
  // the daemon's integration test starts from a snapshot holding its build).
  const names = [...files].map((f) => path.relative(path.resolve(compilerDir, '..', '..', '..'), f));
  expect(names).toEqual(expect.arrayContaining(['node_modules/typescript/lib/typescript.js', 'node_modules/zod/index.cjs', 'server/dist/compiler/isolation.js']));
  // Closed: every module a module requires is in the set.
  for (const m of modules) for (const target of Object.values(m.requires)) if (/\.c?js$/.test(target)) expect(files).toContain(target);
});
