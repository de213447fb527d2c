import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../errors';

/** A notebook read from disk, with the path as the user gave it. */
export interface NotebookInput {
  path: string;
  absolutePath: string;
  text: string;
}

/** Reads a notebook file, refusing what is not a readable regular file with a clear message. */
export function readNotebook(file: string): NotebookInput {
  const absolutePath = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolutePath);
  } catch {
    throw new ValidationError(`${file}: no such file`, 'notebook');
  }
  if (!stat.isFile()) throw new ValidationError(`${file}: not a file`, 'notebook');
  if (stat.size > 64 * 1024 * 1024) throw new ValidationError(`${file}: larger than 64 MiB; is this a notebook?`, 'notebook');
  return { path: file, absolutePath, text: fs.readFileSync(absolutePath, 'utf8') };
}
