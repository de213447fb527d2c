import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ANNOTATION_KEY, TaskAnnotation } from '@cellgraph/schema';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { serverBase } from './api';
import { DagPanel } from './widgets/dag-panel';
import { TagPanel } from './widgets/tag-panel';
import { RunsPanel } from './widgets/runs-panel';
import { IDocumentManager } from '@jupyterlab/docmanager';

/** Command ids (extension/CONTRACT.md). */
namespace CommandIDs {
  export const openDag = 'cellgraph:open-dag';
  export const promote = 'cellgraph:promote';
  export const openRuns = 'cellgraph:open-runs';
  export const tagTask = 'cellgraph:tag-task';
  export const tagSetup = 'cellgraph:tag-setup';
  export const tagParameters = 'cellgraph:tag-parameters';
  export const tagSkip = 'cellgraph:tag-skip';
  export const clearTag = 'cellgraph:clear-tag';
}

const PLUGIN_ID = '@cellgraph/jupyterlab:settings';

/** The live DAG panel of the current notebook. */
const dagPlugin: JupyterFrontEndPlugin<void> = {
  id: '@cellgraph/jupyterlab:dag',
  description: 'Shows the live DAG of the current notebook, compiled by the cellgraph server as you edit.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer],
  activate: async (app: JupyterFrontEnd, notebooks: INotebookTracker, palette: ICommandPalette | null, registry: ISettingRegistry | null) => {
    const settings = registry ? await registry.load(PLUGIN_ID).catch(() => null) : null;
    const server = () => serverBase(String(settings?.get('serverUrl').composite ?? ''));
    const debounce = () => Number(settings?.get('debounceMs').composite ?? 600);
    /** The DAG panel of the current notebook, opened beside it if it is not open yet. */
    const dagOfCurrent = (): DagPanel | undefined => {
      const current = notebooks.currentWidget;
      if (current === null) return undefined;
      const id = `cg-dag-${current.id}`;
      const open = [...app.shell.widgets('main')].find((w) => w.id === id);
      if (open instanceof DagPanel) {
        app.shell.activateById(id);
        return open;
      }
      const panel = new DagPanel(current, server, debounce);
      app.shell.add(panel, 'main', { mode: 'split-right', ref: current.id });
      return panel;
    };
    app.commands.addCommand(CommandIDs.openDag, {
      label: 'cellgraph: Open DAG',
      isEnabled: () => notebooks.currentWidget !== null,
      execute: () => void dagOfCurrent()
    });
    app.commands.addCommand(CommandIDs.promote, {
      label: 'cellgraph: Promote to production…',
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async () => {
        const panel = dagOfCurrent();
        if (panel === undefined) return;
        await panel.refresh();
        await panel.promote();
      }
    });
    palette?.addItem({ command: CommandIDs.openDag, category: 'cellgraph' });
    palette?.addItem({ command: CommandIDs.promote, category: 'cellgraph' });
  }
};

/** The right-sidebar panel that tags the active cell (role, task fields), validated inline. */
const tagsPlugin: JupyterFrontEndPlugin<void> = {
  id: '@cellgraph/jupyterlab:tags',
  description: 'Tags notebook cells as cellgraph tasks, setup, parameters or skip, from a right-sidebar panel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker, palette: ICommandPalette | null) => {
    app.shell.add(new TagPanel(notebooks), 'right', { rank: 600 });
    const hasCell = () => notebooks.activeCell !== null;
    const setRole = (role: 'setup' | 'parameters' | 'skip') => () => notebooks.activeCell?.model.setMetadata(ANNOTATION_KEY, { role });
    app.commands.addCommand(CommandIDs.tagTask, {
      label: 'cellgraph: Make this cell a task…',
      isEnabled: hasCell,
      execute: async () => {
        const cell = notebooks.activeCell;
        if (!cell) return;
        const answer = await InputDialog.getText({ title: 'Task name', placeholder: 'train', text: '' });
        if (!answer.button.accept || answer.value === null) return;
        const parsed = TaskAnnotation.safeParse({ task: answer.value.trim() });
        if (!parsed.success) return showErrorMessage('Task name', parsed.error.issues[0].message);
        cell.model.setMetadata(ANNOTATION_KEY, parsed.data);
      }
    });
    app.commands.addCommand(CommandIDs.tagSetup, { label: 'cellgraph: Mark as setup', isEnabled: hasCell, execute: setRole('setup') });
    app.commands.addCommand(CommandIDs.tagParameters, { label: 'cellgraph: Mark as parameters', isEnabled: hasCell, execute: setRole('parameters') });
    app.commands.addCommand(CommandIDs.tagSkip, { label: 'cellgraph: Skip this cell', isEnabled: hasCell, execute: setRole('skip') });
    app.commands.addCommand(CommandIDs.clearTag, { label: 'cellgraph: Clear the cell tag', isEnabled: hasCell, execute: () => notebooks.activeCell?.model.deleteMetadata(ANNOTATION_KEY) });
    for (const command of [CommandIDs.tagTask, CommandIDs.tagSetup, CommandIDs.tagParameters, CommandIDs.tagSkip, CommandIDs.clearTag]) palette?.addItem({ command, category: 'cellgraph' });
  }
};

/** The left-sidebar panel of runs, workflows and schedules on the cellgraph server. */
const runsPlugin: JupyterFrontEndPlugin<void> = {
  id: '@cellgraph/jupyterlab:runs',
  description: 'Lists runs, promoted workflows and schedules on the cellgraph server; opens executed notebooks; cancel, retry, pause, resume, delete.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ISettingRegistry, ICommandPalette],
  activate: async (app: JupyterFrontEnd, docs: IDocumentManager, registry: ISettingRegistry | null, palette: ICommandPalette | null) => {
    const settings = registry ? await registry.load(PLUGIN_ID).catch(() => null) : null;
    const panel = new RunsPanel(() => serverBase(String(settings?.get('serverUrl').composite ?? '')), {
      contents: app.serviceManager.contents,
      open: (path) => void docs.openOrReveal(path)
    });
    app.shell.add(panel, 'left', { rank: 700 });
    app.commands.addCommand(CommandIDs.openRuns, { label: 'cellgraph: Show runs and schedules', execute: async () => {
        app.shell.activateById(panel.id);
        await panel.refresh();
      }
    });
    palette?.addItem({ command: CommandIDs.openRuns, category: 'cellgraph' });
  }
};

/** The settings schema's plugin (server URL, re-compile delay). */
const settingsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'cellgraph settings: the server URL and the DAG re-compile delay.',
  autoStart: true,
  activate: () => undefined
};

export default [dagPlugin, tagsPlugin, runsPlugin, settingsPlugin];
