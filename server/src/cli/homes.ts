import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { HOME_DIR_NAME, stateFile } from '../runtime';

/** The default home of a notebook: `.cellgraph/` next to it. */
export function notebookHome(notebookPath: string): string {
  return path.join(path.dirname(path.resolve(notebookPath)), HOME_DIR_NAME);
}

/**
 * Homes this user has run notebooks in, remembered in the user's state directory
 * (XDG_STATE_HOME) so that `cellgraph runs` and `logs` find runs from anywhere, the way
 * Jupyter Scheduler keeps one list of jobs.
 */
function registryFile(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'cellgraph', 'homes.json');
}

const Registry = z.object({ homes: z.array(z.string()) });

/** Remembers a home (idempotent). A registry that cannot be written only costs discovery. */
export function rememberHome(home: string): void {
  const file = registryFile();
  const homes = new Set(readRegistry());
  const abs = path.resolve(home);
  if (homes.has(abs)) return;
  homes.add(abs);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ homes: [...homes].sort() }, null, 1));
  } catch (err) {
    process.stderr.write(`warning: could not remember ${abs} in ${file}: ${(err as Error).message}\n`);
  }
}

function readRegistry(): string[] {
  try {
    const parsed = Registry.safeParse(JSON.parse(fs.readFileSync(registryFile(), 'utf8')));
    return parsed.success ? parsed.data.homes : [];
  } catch {
    return [];
  }
}

/**
 * The homes a query looks in: the one given (flag or CELLGRAPH_HOME), else the nearest
 * `.cellgraph/` from the current directory upwards plus every remembered home that still exists.
 */
export function candidateHomes(explicit: string | undefined): string[] {
  const given = explicit ?? process.env.CELLGRAPH_HOME;
  if (given) return [path.resolve(given)];
  const found: string[] = [];
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const home = path.join(dir, HOME_DIR_NAME);
    if (fs.existsSync(stateFile(home))) {
      found.push(home);
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  for (const h of readRegistry()) if (!found.includes(h) && fs.existsSync(stateFile(h))) found.push(h);
  return found;
}
