/**
 * One helper per feature of the cellgraph extension, over Galata's page fixture: what the
 * specs do in JupyterLab (run commands, open the DAG, read cell metadata, call the server
 * through Jupyter's proxy), so the specs read as what a user does.
 */
import { expect, type IJupyterLabPageFixture } from '@jupyterlab/galata';

/** The bits of JupyterLab's app the helpers reach through `window.jupyterapp`. */
interface Cells {
  length: number;
  get(i: number): { getMetadata(k: string): unknown; setMetadata(k: string, v: unknown): void; sharedModel: { getSource(): string; setSource(s: string): void } };
}
interface NotebookLike {
  content?: { model?: { cells?: Cells; sharedModel: { insertCell(i: number, cell: object): void } }; activeCellIndex?: number; activeCell?: { editor?: { getCursorPosition(): { line: number; column: number } } } };
  context?: { path: string };
}
export interface LabApp {
  commands: { execute(id: string, args?: unknown): Promise<unknown> };
  shell: { activateById(id: string): void; currentWidget: unknown; widgets(area: string): IterableIterator<NotebookLike> };
  hasPlugin(id: string): boolean;
}

/** The cellgraph server's API, as JupyterLab serves it (jupyter-server-proxy adds the token). */
export const API = '/cellgraph/api/v1';

/** Page errors collected from the moment the helper is made; specs expect none at the end. */
export class Cellgraph {
  readonly errors: string[] = [];

  constructor(readonly page: IJupyterLabPageFixture) {
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  /** Runs a JupyterLab command (without waiting for dialogs it opens). */
  async exec(command: string, args?: unknown): Promise<void> {
    await this.page.evaluate(([id, a]) => void (window as unknown as { jupyterapp: LabApp }).jupyterapp.commands.execute(id as string, a), [command, args] as const);
  }

  /** Opens a notebook of the seeded root and its DAG panel; waits for the DAG's nodes. */
  async openDag(notebook: string, firstTask: string): Promise<void> {
    await this.openNotebook(notebook);
    await this.exec('cellgraph:open-dag');
    await expect(this.page.locator('.cg-DagPanel')).toBeVisible();
    // The first DAG of a run starts the cellgraph server: on a busy machine well over 30 s.
    await expect(this.node(firstTask)).toBeVisible({ timeout: 90000 });
  }

  /**
   * Opens (or reveals) a notebook of the root by path. Through the document manager rather
   * than Galata's file browser helper, which needs the file browser to be the open sidebar.
   */
  async openNotebook(notebook: string): Promise<void> {
    await this.exec('docmanager:open', { path: notebook, factory: 'Notebook' });
    const name = notebook.split('/').pop() as string;
    await expect(this.page.locator(`.lm-TabBar-tab.lm-mod-current[data-type="document-title"] >> text=${name}`)).toBeVisible({ timeout: 30000 });
    await expect(this.page.locator('.jp-NotebookPanel:visible .jp-Cell').first()).toBeVisible({ timeout: 30000 });
  }

  node(task: string) {
    return this.page.locator(`g.cg-Node[data-task="${task}"]`);
  }

  /** The `cellgraph` metadata of a cell of the open notebook (null when it has none). */
  metadata(cell: number): Promise<unknown> {
    return this.page.evaluate((i) => {
      const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
      const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
      return notebook?.content?.model?.cells?.get(i).getMetadata('cellgraph') ?? null;
    }, cell);
  }

  /** Rewrites a cell's `cellgraph` metadata in the open notebook, as a user editing it would. */
  async setMetadata(cell: number, value: unknown): Promise<void> {
    await this.page.evaluate(
      ([i, v]) => {
        const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
        const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
        notebook?.content?.model?.cells?.get(i as number).setMetadata('cellgraph', v);
      },
      [cell, value] as const
    );
  }

  /** Replaces a cell's source in the open notebook. */
  async setSource(cell: number, source: string): Promise<void> {
    await this.page.evaluate(
      ([i, s]) => {
        const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
        const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
        notebook?.content?.model?.cells?.get(i as number).sharedModel.setSource(s as string);
      },
      [cell, source] as const
    );
  }

  /** Appends a code cell with a `cellgraph` annotation to the open notebook; its index. */
  appendCell(source: string, annotation: unknown): Promise<number> {
    return this.page.evaluate(
      ([s, a]) => {
        const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
        const model = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined)?.content?.model;
        const index = model?.cells?.length ?? 0;
        model?.sharedModel.insertCell(index, { cell_type: 'code', source: s, metadata: { cellgraph: a } });
        return index;
      },
      [source, annotation] as const
    );
  }

  /** The active cell's index and cursor (0-based line) in the current notebook. */
  cursor(): Promise<{ cell: number; line: number | undefined }> {
    return this.page.evaluate(() => {
      const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
      const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
      const content = notebook?.content;
      return { cell: content?.activeCellIndex ?? -1, line: content?.activeCell?.editor?.getCursorPosition().line };
    });
  }

  /** POSTs to the cellgraph server through Jupyter's proxy and returns the JSON answer. */
  async post<T>(route: string, data: unknown): Promise<T> {
    const res = await this.page.request.post(`${API}${route}`, { data });
    expect(res.ok(), `${route}: ${await res.text()}`).toBe(true);
    return (await res.json()) as T;
  }

  async get<T>(route: string): Promise<T> {
    const res = await this.page.request.get(`${API}${route}`);
    expect(res.ok(), `${route}: ${await res.text()}`).toBe(true);
    return (await res.json()) as T;
  }

  /** Promotes a notebook of the root and runs it, as another client of the server would. */
  promoteAndRun(notebookPath: string, params: Record<string, unknown> = {}): Promise<{ version: { workflow: string; version: string; number: number }; run: { runId: string } }> {
    return this.post('/workflows/promote', { notebookPath, run: true, params });
  }

  /** Waits until a run the server knows of has finished; its status. */
  async waitForRun(runId: string, timeoutMs = 90000): Promise<string> {
    let status = '';
    await expect
      .poll(async () => (status = (await this.get<{ status: string }>(`/runs/${runId}`)).status), { timeout: timeoutMs, intervals: [500] })
      .toMatch(/succeeded|failed|cancelled/);
    return status;
  }
}

interface Contents {
  save(path: string, options: object): Promise<unknown>;
}
/** A code cell to seed: its source and its cellgraph annotation. */
export type Cell = { source: string; cellgraph?: object };

/** Writes files into the Jupyter root through JupyterLab's contents manager: folders, text files, notebooks. */
export async function seed(page: IJupyterLabPageFixture, files: { path: string; dir?: true; text?: string; cells?: Cell[] }[]): Promise<void> {
  await page.evaluate(async (list) => {
    const contents = (window as unknown as { jupyterapp: LabApp & { serviceManager: { contents: Contents } } }).jupyterapp.serviceManager.contents;
    for (const f of list) {
      if (f.dir) await contents.save(f.path, { type: 'directory' });
      else if (f.text !== undefined) await contents.save(f.path, { type: 'file', format: 'text', content: f.text });
      else {
        const cells = (f.cells ?? []).map((c) => ({ cell_type: 'code', source: c.source, metadata: c.cellgraph ? { cellgraph: c.cellgraph } : {}, outputs: [], execution_count: null }));
        const content = { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } }, cells };
        await contents.save(f.path, { type: 'notebook', format: 'json', content });
      }
    }
  }, files);
}
