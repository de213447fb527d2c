import type { DisplayRequest } from '../runtime';
import type { CellRunResult, NbOutput } from './types';

/**
 * Collects each cell's outputs while a task runs: streams (merged like Jupyter merges
 * consecutive chunks), display data (updated in place by display id) and errors.
 */
export class CellRecorder {
  private readonly cells: CellRunResult[] = [];
  private current?: { result: CellRunResult; t0: number };

  /** The cell running now, if any. */
  get currentCell(): number | undefined {
    return this.current?.result.cell;
  }

  enter(cell: number): void {
    this.close();
    const result: CellRunResult = { cell, outputs: [], startedAt: new Date().toISOString(), durationMs: 0 };
    this.cells.push(result);
    this.current = { result, t0: performance.now() };
  }

  stream(name: 'stdout' | 'stderr', text: string): void {
    const outputs = this.current?.result.outputs;
    if (!outputs || text.length === 0) return;
    const last = outputs[outputs.length - 1];
    if (last?.output_type === 'stream' && last.name === name) last.text += text;
    else outputs.push({ output_type: 'stream', name, text });
  }

  display(request: DisplayRequest): void {
    const output: NbOutput = {
      output_type: 'display_data',
      data: request.data,
      metadata: request.metadata,
      ...(request.displayId ? { transient: { display_id: request.displayId } } : {})
    };
    if (request.displayId) {
      // An update replaces the earlier output wherever it was shown, as Jupyter does.
      for (const cell of this.cells) {
        const i = cell.outputs.findIndex((o) => o.output_type === 'display_data' && o.transient?.display_id === request.displayId);
        if (i >= 0) {
          cell.outputs[i] = output;
          return;
        }
      }
    }
    this.current?.result.outputs.push(output);
  }

  error(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.current?.result.outputs.push({
      output_type: 'error',
      ename: e.name,
      evalue: e.message,
      traceback: (e.stack ?? `${e.name}: ${e.message}`).split('\n')
    });
  }

  /** Ends timing of the current cell. */
  close(): void {
    if (this.current) this.current.result.durationMs = performance.now() - this.current.t0;
    this.current = undefined;
  }

  results(): CellRunResult[] {
    this.close();
    return this.cells;
  }
}
