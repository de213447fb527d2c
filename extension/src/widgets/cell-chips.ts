import type { Cell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';
import type { IDisposable } from '@lumino/disposable';
import { cellChip } from '../annotations';

const DEBOUNCE_MS = 100;

/**
 * Shows each tagged cell's annotation next to its prompt (`task greet`, `parameters`, ...),
 * as Kale shows its cell tags, so a notebook's workflow reads at a glance without opening
 * a panel. The chip is an attribute on the prompt, drawn by CSS: JupyterLab rewrites the
 * prompt's text on every execution and would remove a child element.
 */
export class CellChips implements IDisposable {
  private timer?: ReturnType<typeof setTimeout>;
  private disposed = false;

  constructor(private readonly panel: NotebookPanel) {
    panel.context.ready.then(() => {
      if (this.disposed) return;
      panel.model?.contentChanged.connect(this.schedule, this);
      // A windowed notebook builds a cell's DOM when it scrolls into view.
      panel.content.cellInViewportChanged.connect((_n, cell) => this.applyTo(cell), this);
      this.apply();
    }, () => undefined);
    panel.disposed.connect(() => this.dispose());
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    this.panel.model?.contentChanged.disconnect(this.schedule, this);
    Signal.clearData(this);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.apply(), DEBOUNCE_MS);
  }

  private apply(): void {
    if (this.disposed) return;
    for (const cell of this.panel.content.widgets) this.applyTo(cell);
  }

  private applyTo(cell: Cell): void {
    const chip = cell.model.type === 'code' ? cellChip(cell.model.metadata) : undefined;
    const prompt = cell.node.querySelector<HTMLElement>('.jp-InputPrompt');
    if (chip === undefined) {
      delete cell.node.dataset.cgRole;
      if (prompt) {
        delete prompt.dataset.cgTag;
        prompt.removeAttribute('title');
      }
      return;
    }
    cell.node.dataset.cgRole = chip.role;
    if (prompt) {
      prompt.dataset.cgTag = chip.text;
      // The chip is cut to the prompt's width (`task ge…`): its whole text on hover.
      prompt.title = `cellgraph: ${chip.text}`;
    }
  }
}
