import type { Command } from 'commander';
import { initProject } from '../project-init';
import { out } from '../output';

/** `cellgraph init [dir]`: lets notebooks in a folder import @cellgraph/kernel without a hand-made package.json. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('set up a folder so its notebooks (and those below it) can import @cellgraph/kernel in tslab and in the compiler')
    .argument('[dir]', 'the folder, usually the one JupyterLab starts in', '.')
    .action((dir: string) => {
      const r = initProject(dir);
      if (r.kernel === 'present') {
        out(`${r.dir}: notebooks here already import @cellgraph/kernel from ${r.resolvedFrom}/node_modules; nothing to do`);
        return;
      }
      out(`${r.dir}: linked node_modules/@cellgraph/kernel -> ${r.kernelDir} (package.json ${r.packageJson})`);
      out('notebooks in this folder and below can now `import { param, metric } from "@cellgraph/kernel"` in tslab and in cellgraph');
    });
}
