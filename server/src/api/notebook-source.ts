import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic, NotebookContent, WorkflowIR } from '@cellgraph/schema';
import { compileWithCache } from '../compiler/compile-cache';
import { workflowNameFromPath } from '../compiler';
import type { CompilePool } from '../compiler/pool/compile-pool';
import { ValidationError } from '../errors';
import type { ArtifactStore } from '../stores';
import { compileFailed } from './http-errors';

/** A notebook a request names, read and ready to compile. */
export interface SubmittedNotebook {
  /** Absolute path: the file on the server's machine, or where uploaded content runs. */
  path: string;
  text: string;
  /**
   * The workflow's name, from the notebook's path relative to the work directory
   * (workflowNameFromPath): the same notebook file is the same workflow, two files of one
   * name in different folders are two.
   */
  name: string;
}

const MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024;

/**
 * Where uploaded content runs: its folder under the work directory when the server has it
 * (JupyterLab sends the notebook's folder, so data files next to it and node_modules above
 * it resolve as in the kernel), else the work directory.
 */
function uploadDir(workDir: string, notebookDir: string | undefined): string {
  if (!notebookDir) return workDir;
  const dir = path.resolve(workDir, notebookDir);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return workDir;
  // The schema refuses `..` and absolute paths; a symlinked folder must stay inside too, as
  // for notebookPath (and as Jupyter's own contents manager requires).
  const inside = path.relative(fs.realpathSync(workDir), fs.realpathSync(dir));
  if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new ValidationError(`notebookDir: ${notebookDir}: outside the server's work directory (symlinks resolved)`, 'body.notebookDir');
  }
  return dir;
}

/**
 * Reads the notebook a run or promotion request names: a path on the server's machine
 * (absolute or relative to the work directory; must be an existing .ipynb file), or
 * uploaded content, which runs under its file name in its folder (see uploadDir).
 */
export function readSubmittedNotebook(
  source: { notebookPath?: string; notebook?: NotebookContent; notebookName?: string; notebookDir?: string },
  workDir: string
): SubmittedNotebook {
  if (source.notebook !== undefined) {
    const text = typeof source.notebook === 'string' ? source.notebook : JSON.stringify(source.notebook, null, 1);
    const fileName = source.notebookName ?? 'notebook.ipynb';
    // Named by where it is in the sender's root, whether or not this server has that folder
    // (a production server runs it in its own work directory, as the same workflow).
    const relative = source.notebookDir ? `${source.notebookDir.replace(/\/+$/, '')}/${fileName}` : fileName;
    return { path: path.join(uploadDir(workDir, source.notebookDir), fileName), text, name: workflowNameFromPath(relative) };
  }
  const given = source.notebookPath ?? '';
  if (given.includes('\0')) throw new ValidationError('notebookPath: must not contain NUL', 'body.notebookPath');
  if (!given.toLowerCase().endsWith('.ipynb')) throw new ValidationError(`notebookPath: ${JSON.stringify(given)} is not an .ipynb file`, 'body.notebookPath');
  const abs = path.resolve(workDir, given);
  const real = confinedPath(abs, workDir, given);
  // Stat and read the resolved file, not the name: a symlink swapped in after the check
  // cannot point the read elsewhere.
  const stat = fs.statSync(real);
  if (!stat.isFile()) throw new ValidationError(`notebookPath: ${given}: not a file`, 'body.notebookPath');
  if (stat.size > MAX_NOTEBOOK_BYTES) throw new ValidationError(`notebookPath: ${given}: larger than 64 MiB`, 'body.notebookPath');
  return { path: abs, text: fs.readFileSync(real, 'utf8'), name: workflowNameFromPath(path.relative(path.resolve(workDir), abs).split(path.sep).join('/')) };
}

/**
 * The real path of a notebook a request names, which must lie inside the work directory
 * once every symlink is resolved: a request may not read any other file on the server's
 * disk (an `.ipynb` symlink to /etc/passwd would otherwise have its first line quoted in
 * the parse error). The error never shows where a link points, nor what the file holds.
 */
function confinedPath(abs: string, workDir: string, given: string): string {
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch {
    throw new ValidationError(`notebookPath: ${given}: no such file on the server`, 'body.notebookPath');
  }
  const root = fs.realpathSync(workDir);
  const inside = path.relative(root, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new ValidationError(`notebookPath: ${given}: outside the server's work directory (symlinks resolved); only notebooks under it can be run`, 'body.notebookPath');
  }
  return real;
}

/**
 * Compiles a submitted notebook in the compile pool, off the event loop (reusing an
 * identical earlier compile); a notebook that does not compile is a 422 carrying every
 * diagnostic, one that runs past a limit a 422 `compile-limit`.
 */
export async function compileSubmitted(compiles: CompilePool, store: ArtifactStore, nb: SubmittedNotebook): Promise<{ ir: WorkflowIR; warnings: Diagnostic[] }> {
  const result = await compileWithCache(store, nb, (input) => compiles.compile(input));
  if (!result.ok) throw compileFailed(nb.path, result.diagnostics);
  return { ir: result.ir, warnings: result.warnings };
}
