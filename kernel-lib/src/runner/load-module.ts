import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { TSLAB_SHIM } from './tslab-shim';

/**
 * Evaluates a generated CommonJS module the way Node loads a file, but with `require`
 * rooted at `workDir` so task code finds the same packages tslab would from the notebook's
 * directory. `require("tslab")` gets a light shim so a task never loads TypeScript.
 */
export function loadModule(source: string, filename: string, workDir: string): unknown {
  const base = Module.createRequire(path.join(workDir, '__cellgraph_task__.js'));
  const req = ((id: string) => (id === 'tslab' ? TSLAB_SHIM : base(id))) as NodeRequire;
  Object.assign(req, { resolve: base.resolve, cache: base.cache, main: base.main, extensions: base.extensions });
  const mod = { exports: {} as unknown };
  const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename }) as (
    exports: unknown,
    require: NodeRequire,
    module: { exports: unknown },
    filename: string,
    dirname: string
  ) => void;
  wrapper(mod.exports, req, mod, filename, workDir);
  return mod.exports;
}
