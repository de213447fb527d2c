import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Menu } from '@lumino/widgets';
import { ANNOTATION_KEY, TaskAnnotation } from '@cellgraph/schema';
import { jupyterProductionSettings, productionBase, serverBase } from './api';
import type { NotebookOpener } from './executed-notebook';
import { cellgraphIcon } from './icons';
import { CellgraphServer } from './server';
import { CellgraphTargets } from './targets';
import { ICellgraphServer, ICellgraphTargets } from './tokens';
import { CellChips } from './widgets/cell-chips';
import { DagPanel } from './widgets/dag-panel';
import { ExecutedHeader } from './widgets/executed-header';
import { configureProduction } from './widgets/production-dialog';
import { RunsPanel } from './widgets/runs-panel';
import { RunsView } from './widgets/runs-view';
import { TagPanel } from './widgets/tag-panel';

export { ICellgraphServer, ICellgraphTargets } from './tokens';

/** Command ids (extension/CONTRACT.md). */
namespace CommandIDs {
  export const openDag = 'cellgraph:open-dag';
  export const openInDag = 'cellgraph:open-in-dag';
  export const promote = 'cellgraph:promote';
  export const run = 'cellgraph:run';
  export const openRuns = 'cellgraph:open-runs';
  export const openWorkflowRuns = 'cellgraph:open-workflow-runs';
  export const openTags = 'cellgraph:open-tags';
  export const tagTask = 'cellgraph:tag-task';
  export const tagSetup = 'cellgraph:tag-setup';
  export const tagParameters = 'cellgraph:tag-parameters';
  export const tagSkip = 'cellgraph:tag-skip';
  export const clearTag = 'cellgraph:clear-tag';
  export const cellTagMenu = 'cellgraph:cell-tag-menu';
  export const configureProduction = 'cellgraph:configure-production';
}

const SETTINGS_ID = '@cellgraph/jupyterlab:settings';

/** The cellgraph server every panel talks to (settings' URL, or the jupyter-server-proxy path). */
const serverPlugin: JupyterFrontEndPlugin<ICellgraphServer> = {
  id: '@cellgraph/jupyterlab:server',
  description: 'The cellgraph server connection the panels share: its URL from the settings, and whether it can be reached.',
  autoStart: true,
  provides: ICellgraphServer,
  optional: [ISettingRegistry],
  activate: async (_app: JupyterFrontEnd, registry: ISettingRegistry | null): Promise<ICellgraphServer> => {
    const settings = registry ? await registry.load(SETTINGS_ID).catch(() => null) : null;
    return new CellgraphServer(() => serverBase(String(settings?.get('serverUrl').composite ?? '')));
  }
};

/**
 * The targets: development (the server above) and production when the Jupyter server has one
 * configured (cellgraph_jupyterlab/production.py keeps its URL and token and forwards calls).
 */
const targetsPlugin: JupyterFrontEndPlugin<ICellgraphTargets> = {
  id: '@cellgraph/jupyterlab:targets',
  description: 'The cellgraph servers a workflow can be promoted to: development, and a production server configured with "cellgraph: Configure the production server…".',
  autoStart: true,
  provides: ICellgraphTargets,
  requires: [ICellgraphServer],
  optional: [ICommandPalette],
  activate: async (app: JupyterFrontEnd, development: ICellgraphServer, palette: ICommandPalette | null): Promise<ICellgraphTargets> => {
    const targets = new CellgraphTargets(development, jupyterProductionSettings, (label) => new CellgraphServer(productionBase, 'production', label));
    // Without cellgraph-jupyterlab's server extension there is no production target: development only.
    await targets.refresh().catch((err: Error) => console.warn(`cellgraph: no production target (${err.message})`));
    app.commands.addCommand(CommandIDs.configureProduction, {
      label: 'cellgraph: Configure the production server…',
      caption: 'The cellgraph server Promote sends workflows to (URL and token, kept by the Jupyter server)',
      execute: () => configureProduction({ read: () => jupyterProductionSettings.read(), configure: (url, token) => targets.configure(url, token), forget: () => targets.forget() })
    });
    palette?.addItem({ command: CommandIDs.configureProduction, category: 'cellgraph' });
    return targets;
  }
};

/** The live DAG panel of the current notebook, promote, and runs followed on it. */
const dagPlugin: JupyterFrontEndPlugin<void> = {
  id: '@cellgraph/jupyterlab:dag',
  description: 'Shows the live DAG of the current notebook, compiled by the cellgraph server as you edit; promotes it and follows its runs.',
  autoStart: true,
  requires: [INotebookTracker, ICellgraphTargets, IDocumentManager],
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer],
  activate: async (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    targets: ICellgraphTargets,
    docs: IDocumentManager,
    palette: ICommandPalette | null,
    registry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null
  ) => {
    const settings = registry ? await registry.load(SETTINGS_ID).catch(() => null) : null;
    const debounce = () => Number(settings?.get('debounceMs').composite ?? 600);
    const opener = Private.opener(app, docs);
    // DAG panels come back after a reload, beside their notebooks.
    const tracker = new WidgetTracker<DagPanel>({ namespace: 'cellgraph-dag' });
    const dagOf = (notebook: NotebookPanel | null) => Private.dagOf(app, notebook, targets, opener, debounce, tracker);
    app.commands.addCommand(CommandIDs.openDag, {
      label: 'cellgraph: Open DAG',
      caption: 'Show the typed DAG of this notebook, kept current as you edit',
      icon: cellgraphIcon,
      isEnabled: (args) => typeof args.path === 'string' || notebooks.currentWidget !== null,
      execute: (args) => {
        // With a path (the layout restorer's call): that notebook, opened if it is not.
        const notebook = typeof args.path === 'string' ? docs.openOrReveal(args.path, 'Notebook') : notebooks.currentWidget;
        // Not awaiting the notebook's context: while JupyterLab restores its layout, that waits on this command.
        if (notebook instanceof NotebookPanel) dagOf(notebook);
      }
    });
    app.commands.addCommand(CommandIDs.openInDag, {
      label: 'cellgraph: Show this cell in the DAG',
      caption: "Open the DAG and select the task this cell belongs to",
      icon: cellgraphIcon,
      isEnabled: () => notebooks.activeCell !== null,
      execute: async () => {
        const notebook = notebooks.currentWidget;
        const cell = notebook?.content.activeCellIndex ?? -1;
        const panel = dagOf(notebook);
        if (panel === undefined || cell < 0) return;
        await panel.showCell(cell);
      }
    });
        if (restorer) void restorer.restore(tracker, { command: CommandIDs.openDag, args: (panel) => ({ path: panel.notebookPath }), name: (panel) => panel.notebookPath });
    app.commands.addCommand(CommandIDs.promote, {
      label: 'cellgraph: Promote to production…',
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async () => {
        const panel = dagOf(notebooks.currentWidget);
        await panel?.promote();
      }
    });
    // The notebook toolbar's Run (schema/settings.json, `jupyter.lab.toolbars.Notebook`) and the palette's.
    app.commands.addCommand(CommandIDs.run, {
      label: (args) => (args.toolbar ? 'Run workflow' : 'cellgraph: Run the notebook on the development server…'),
      caption: 'Run the notebook as it is now on the development server, with parameters (nothing is promoted)',
      icon: (args) => (args.toolbar ? cellgraphIcon : undefined),
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async () => {
        const panel = dagOf(notebooks.currentWidget);
        return panel?.runNotebook();
      }
    });
    palette?.addItem({ command: CommandIDs.openDag, category: 'cellgraph' });
    palette?.addItem({ command: CommandIDs.run, category: 'cellgraph' });
    palette?.addItem({ command: CommandIDs.promote, category: 'cellgraph' });
  }
};

/** Cell tagging: the right-sidebar panel, commands, the cell toolbar's menu, and chips on tagged cells. */
const tagsPlugin: JupyterFrontEndPlugin<void> = {
  id: '@cellgraph/jupyterlab:tags',
  description: 'Tags notebook cells as cellgraph tasks, setup, parameters or skip: a right-sidebar panel, the cell toolbar, commands, and a chip on each tagged cell.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker, palette: ICommandPalette | null) => {
    const panel = new TagPanel(notebooks);
    app.shell.add(panel, 'right', { rank: 600 });
    notebooks.widgetAdded.connect((_t, nb) => new CellChips(nb));
    notebooks.forEach((nb) => new CellChips(nb));
    const isCodeCell = () => notebooks.activeCell?.model.type === 'code';
    const setRole = (role: 'setup' | 'parameters' | 'skip') => () => notebooks.activeCell?.model.setMetadata(ANNOTATION_KEY, { role });
    // The palette shows commands with their category prefix; the cell menu, under its own title, without.
    const label = (text: string) => (args: { inMenu?: boolean }) => (args.inMenu ? text : `cellgraph: ${text}`);
    app.commands.addCommand(CommandIDs.tagTask, {
      label: label('Make this cell a task…'),
      isEnabled: isCodeCell,
      execute: async () => {
        const cell = notebooks.activeCell;
        if (!cell) return;
        const current = cell.model.getMetadata(ANNOTATION_KEY) as { task?: unknown } | undefined;
        const hint = 'lower case letters, digits, - and _; starts with a letter';
        // A bad name asks again with what was typed and why it was refused: nothing typed is lost.
        let text = typeof current?.task === 'string' ? current.task : '';
        let problem: string | undefined;
        for (;;) {
          const answer = await InputDialog.getText({ title: 'Task name', label: problem === undefined ? hint : `${problem} (${hint})`, placeholder: 'train', text });
          if (!answer.button.accept || answer.value === null) return;
          text = answer.value;
          const parsed = TaskAnnotation.safeParse({ ...(typeof current?.task === 'string' ? current : {}), task: text.trim() });
          if (parsed.success) return cell.model.setMetadata(ANNOTATION_KEY, parsed.data);
          problem = `"${text.trim()}": ${parsed.error.issues[0].message}`;
        }
      }
    });
    app.commands.addCommand(CommandIDs.tagSetup, { label: label('Mark as setup'), isEnabled: isCodeCell, execute: setRole('setup') });
    app.commands.addCommand(CommandIDs.tagParameters, { label: label('Mark as parameters'), isEnabled: isCodeCell, execute: setRole('parameters') });
    app.commands.addCommand(CommandIDs.tagSkip, { label: label('Skip this cell'), isEnabled: isCodeCell, execute: setRole('skip') });
    app.commands.addCommand(CommandIDs.clearTag, { label: label('Clear the cell tag'), isEnabled: isCodeCell, execute: () => notebooks.activeCell?.model.deleteMetadata(ANNOTATION_KEY) });
    app.commands.addCommand(CommandIDs.openTags, {
      label: label('Edit the task options of this cell…'),
      execute: () => app.shell.activateById(panel.id)
    });

    const menu = new Menu({ commands: app.commands });
    menu.addClass('cg-CellTagMenu');
    menu.title.label = 'cellgraph';
    for (const command of [CommandIDs.tagTask, CommandIDs.tagSetup, CommandIDs.tagParameters, CommandIDs.tagSkip, CommandIDs.clearTag]) menu.addItem({ command, args: { inMenu: true } });
    menu.addItem({ type: 'separator' });
    menu.addItem({ command: CommandIDs.openTags, args: { inMenu: true } });
    // The cell toolbar's button (schema/plugin.json, `jupyter.lab.toolbars.Cell`).
    app.commands.addCommand(CommandIDs.cellTagMenu, {
      caption: 'cellgraph: tag this cell (task, setup, parameters, skip)',
      icon: cellgraphIcon,
      isVisible: isCodeCell,
      execute: () => {
        const cell = notebooks.activeCell;
        if (!cell) return;
        const anchor = cell.node.querySelector(`.jp-cell-toolbar [data-command="${CommandIDs.cellTagMenu}"]`) ?? cell.node;
        const rect = anchor.getBoundingClientRect();
        menu.open(rect.left, rect.bottom);
      }
    });
    for (const command of [CommandIDs.tagTask, CommandIDs.tagSetup, CommandIDs.tagParameters, CommandIDs.tagSkip, CommandIDs.clearTag]) palette?.addItem({ command, category: 'cellgraph' });
  }
};

/** The left-sidebar panel of runs, workflows and schedules on the cellgraph server. */
const runsPlugin: JupyterFrontEndPlugin<void> = {
  id: '@cellgraph/jupyterlab:runs',
  description: 'Lists runs, promoted workflows and schedules on the cellgraph server; opens executed notebooks and logs; cancel, retry, pause, resume, delete.',
  autoStart: true,
  requires: [ICellgraphTargets, IDocumentManager],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, targets: ICellgraphTargets, docs: IDocumentManager, palette: ICommandPalette | null) => {
    const opener = Private.opener(app, docs);
    /** The runs view of a workflow on a server, opened once and revealed after. */
    const openRuns = (workflow: string, server: ICellgraphServer, runId?: string) => {
      const id = `cg-runs-${server.target}-${workflow}`;
      let view = [...app.shell.widgets('main')].find((w): w is RunsView => w instanceof RunsView && w.id === id);
      if (view === undefined) {
        view = new RunsView(server, workflow, opener);
        app.shell.add(view, 'main');
      }
      app.shell.activateById(id);
      if (runId !== undefined) void view.refresh().then(() => view?.showTimeline(runId));
    };
    const panel = new RunsPanel(targets, {
      ...opener,
      showOnDag: (runId, workflow, server) => {
        const dag = [...app.shell.widgets('main')].find((w): w is DagPanel => w instanceof DagPanel && w.model.ir?.name === workflow);
        if (dag === undefined) return false;
        dag.follow(runId, server);
        app.shell.activateById(dag.id);
        return true;
      },
      openRuns
    });
    app.shell.add(panel, 'left', { rank: 700 });
    app.commands.addCommand(CommandIDs.openRuns, {
      label: 'cellgraph: Show runs and schedules',
      execute: async () => {
        app.shell.activateById(panel.id);
        await panel.refresh();
      }
    });
    palette?.addItem({ command: CommandIDs.openRuns, category: 'cellgraph' });
    app.commands.addCommand(CommandIDs.openWorkflowRuns, {
      label: (args) => `cellgraph: Runs of ${typeof args.workflow === 'string' ? args.workflow : 'a workflow'}`,
      caption: 'The runs of a workflow: filter, compare two, chart a metric, timelines',
      execute: (args) => {
        const server = targets.get(args.target === 'production' ? 'production' : 'development') ?? targets.development;
        if (typeof args.workflow === 'string') openRuns(args.workflow, server, typeof args.run === 'string' ? args.run : undefined);
      }
    });
  }
};

/** The settings schema's plugin (server URL, re-compile delay, the cell toolbar's button). */
const settingsPlugin: JupyterFrontEndPlugin<void> = {
  id: SETTINGS_ID,
  description: 'cellgraph settings: the server URL and the DAG re-compile delay.',
  autoStart: true,
  activate: () => undefined
};

export default [serverPlugin, targetsPlugin, settingsPlugin, dagPlugin, tagsPlugin, runsPlugin];

namespace Private {
  /** Saving and opening notebooks through JupyterLab; an executed one read-only, with no kernel, under its header. */
  export function opener(app: JupyterFrontEnd, docs: IDocumentManager): NotebookOpener {
    return {
      contents: app.serviceManager.contents,
      open: (path, executed) => {
        if (executed === undefined) return void docs.openOrReveal(path);
        const widget = docs.openOrReveal(path, 'Notebook', undefined, {}, { shouldStart: false, canStart: false, autoStartDefault: false });
        if (!(widget instanceof NotebookPanel)) return;
        if (!widget.contentHeader.widgets.some((w) => w instanceof ExecutedHeader)) widget.contentHeader.addWidget(new ExecutedHeader(executed, path));
        void widget.context.ready.then(() => {
          if (widget.model !== null) widget.model.readOnly = true;
        });
      }
    };
  }

  /** The DAG panel of a notebook, opened beside it if it is not open yet. */
  export function dagOf(app: JupyterFrontEnd, notebook: NotebookPanel | null, targets: ICellgraphTargets, opener: NotebookOpener, debounce: () => number, tracker: WidgetTracker<DagPanel>): DagPanel | undefined {
    if (notebook === null) return undefined;
    const id = `cg-dag-${notebook.id}`;
    const open = [...app.shell.widgets('main')].find((w) => w.id === id);
    if (open instanceof DagPanel) {
      app.shell.activateById(id);
      return open;
    }
    const panel = new DagPanel(notebook, targets, opener, debounce);
    app.shell.add(panel, 'main', { mode: 'split-right', ref: notebook.id });
    void tracker.add(panel);
    notebook.context.pathChanged.connect(() => void tracker.save(panel), panel);
    return panel;
  }
}
