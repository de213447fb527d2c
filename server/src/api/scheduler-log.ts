import type { FireLatency, SchedulerEvent } from '../scheduler';

/**
 * Turns the scheduler's reports into server log lines, one per fire, so an operator can
 * see why a run did or did not start. Launch lines carry the fire latency (scheduled
 * second to run recorded), which the benchmark reads.
 */
export function schedulerLog(write: (line: string) => void): { onEvent(e: SchedulerEvent): void; onFireLatency(m: FireLatency): void } {
  const latencies = new Map<string, number>();
  return {
    onFireLatency: (m) => {
      latencies.set(m.runId, m.latencyMs);
      if (latencies.size > 1000) latencies.delete(latencies.keys().next().value as string);
    },
    onEvent: (e) => {
      const prefix = `cellgraph server: schedule ${e.scheduleId ?? '?'}`;
      if (e.kind === 'error') return write(`${prefix}: ${e.error.message}`);
      const at = e.fireTime.toISOString();
      switch (e.kind) {
        case 'launched': {
          const latency = latencies.get(e.runId);
          latencies.delete(e.runId);
          const why = e.missed ? ' (missed while the server was down; missedRunPolicy runOnce)' : '';
          const replaced = e.replaced.length > 0 ? `, cancelled ${e.replaced.join(', ')} (Replace)` : '';
          return write(`${prefix}: started run ${e.runId} for ${at}${why}${replaced}${latency !== undefined ? ` in ${latency} ms` : ''}`);
        }
        case 'duplicate':
          return write(`${prefix}: the fire at ${at} already has run ${e.runId}; nothing to do`);
        case 'skipped':
          if (e.reason === 'forbid') return write(`${prefix}: skipped the fire at ${at}: ${e.activeRuns.join(', ')} still active (concurrencyPolicy Forbid)`);
          if (e.reason === 'superseded') {
            return write(`${prefix}: skipped the fire at ${at}, missed: the later fire at ${e.by.toISOString()} is the one run for it (missedRunPolicy runOnce)`);
          }
          return write(`${prefix}: skipped the fire at ${at}, missed while the server was down (missedRunPolicy skip)`);
        case 'failed':
          return write(`${prefix}: the fire at ${at} failed${e.runId !== undefined ? ` (run ${e.runId})` : ''}: ${e.error.message}`);
        case 'recovering':
          return write(
            `${prefix}: recovering the fire at ${at}: claimed by ${e.claimedBy} at ${e.claimedAt.toISOString()}, but run ${e.runId} was never recorded (that process stopped); firing it again`
          );
      }
    }
  };
}
