import type { RunDetail, TaskSpan } from '@cellgraph/schema';

/**
 * A run's timeline (a Gantt chart of its tasks' spans) as pure geometry: one row per task in
 * the run's order, one bar per span (queued, each attempt, the backoff between, cached as a
 * thin mark), x proportional to time from the run's creation.
 */

export interface TimelineBar {
  task: string;
  row: number;
  state: TaskSpan['state'];
  attempt?: number;
  x: number;
  width: number;
  /** ms from the run's creation. */
  startMs: number;
  endMs: number;
  /** Still going (no end yet): drawn up to now. */
  open: boolean;
}

export interface Timeline {
  bars: TimelineBar[];
  tasks: string[];
  /** ms the axis spans. */
  totalMs: number;
}

/** The narrowest a bar is drawn (a cached instant, a queue of 2 ms), so every span stays visible. */
export const MIN_BAR_WIDTH = 3;

/** Lays out the bars of `run` over `width` pixels; `now` ends the spans still going. */
export function runTimeline(run: Pick<RunDetail, 'createdAt' | 'tasks' | 'taskDetails'>, width: number, now: number = Date.now()): Timeline {
  const t0 = Date.parse(run.createdAt);
  const tasks = run.tasks.map((t) => t.name);
  const spans = tasks.map((name) => run.taskDetails.find((d) => d.name === name)?.spans ?? []);
  let totalMs = 1;
  for (const list of spans) for (const s of list) totalMs = Math.max(totalMs, (s.end !== undefined ? Date.parse(s.end) : now) - t0);
  const k = width / totalMs;
  const bars: TimelineBar[] = [];
  spans.forEach((list, row) => {
    for (const s of list) {
      const startMs = Math.max(0, Date.parse(s.start) - t0);
      const endMs = Math.max(startMs, (s.end !== undefined ? Date.parse(s.end) : now) - t0);
      bars.push({ task: tasks[row], row, state: s.state, ...(s.attempt !== undefined ? { attempt: s.attempt } : {}), x: startMs * k, width: Math.max(MIN_BAR_WIDTH, (endMs - startMs) * k), startMs, endMs, open: s.end === undefined });
    }
  });
  return { bars, tasks, totalMs };
}
