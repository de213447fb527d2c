/**
 * The state store on better-sqlite3 (what ships) against Node's built-in node:sqlite, on
 * the store's own workload (sqlite-workload.ts), each driver in fresh processes, alternated.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { median } from './median';
import type { WorkloadTimings } from './sqlite-workload';

type Report = (name: string, value: number, unit: string, target?: string) => void;

const ROUNDS = 3;
const DRIVERS = ['better-sqlite3', 'node:sqlite'] as const;

export async function benchSqlite(dir: string, report: Report): Promise<void> {
  const results = new Map<string, WorkloadTimings[]>(DRIVERS.map((d) => [d, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const driver of DRIVERS) {
      const file = path.join(dir, `${driver.replace(':', '-')}-${round}.db`);
      const r = spawnSync(process.execPath, [path.join(__dirname, 'sqlite-workload.js'), driver, file], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sqlite workload on ${driver} failed:\n${r.stderr}`);
      results.get(driver)?.push(JSON.parse(r.stdout) as WorkloadTimings);
    }
  }
  for (const driver of DRIVERS) {
    const runs = results.get(driver) ?? [];
    const { writes, reads } = runs[0];
    report(`state store on ${driver}: ${writes} writes (runs, tasks, events, cache)`, median(runs.map((t) => t.writeMs)), 'ms');
    report(`state store on ${driver}: writes per second`, writes / (median(runs.map((t) => t.writeMs)) / 1000), '/s');
    report(`state store on ${driver}: ${reads} reads (run, tasks, events, run list)`, median(runs.map((t) => t.readMs)), 'ms');
    report(`state store on ${driver}: open + migrate a new database`, median(runs.map((t) => t.openMs)), 'ms');
  }
}
