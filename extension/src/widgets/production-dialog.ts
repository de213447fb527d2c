import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import type { ProductionSettings } from '../api';
import { ServerError } from '../errors';
import { el } from './dom';

/** What the production dialog needs: the settings as they are, and how to change them. */
export interface ProductionSettingsHost {
  read(): Promise<ProductionSettings>;
  configure(url: string, token: string): Promise<void>;
  forget(): Promise<void>;
}

/** The dialog's body: the production server's URL and its token (a password field; never shown back). */
class ProductionBody extends Widget {
  readonly url = el('input', 'cg-ProductionUrl');
  readonly token = el('input', 'cg-ProductionToken');

  constructor(current: ProductionSettings) {
    super();
    this.addClass('cg-ProductionDialog');
    this.url.placeholder = 'https://cellgraph.example.org/';
    this.url.value = current.url ?? '';
    this.token.type = 'password';
    this.token.autocomplete = 'off';
    this.token.placeholder = current.hasToken ? '(saved; type a new one to replace it)' : 'the server\'s API token';
    const note = el(
      'p',
      'cg-DialogNote',
      'The Jupyter server keeps the URL and token (in its config directory, readable by you only) and adds the token to each call: the browser never holds it. Saving checks both against the server.'
    );
    const urlLabel = el('label', 'cg-Field', 'URL');
    urlLabel.append(this.url);
    const tokenLabel = el('label', 'cg-Field', 'Token');
    tokenLabel.append(this.token);
    this.node.append(urlLabel, tokenLabel, note);
    if (current.source === 'environment') {
      this.url.disabled = this.token.disabled = true;
      note.textContent = 'Set for this Jupyter server by CELLGRAPH_PRODUCTION_URL / CELLGRAPH_PRODUCTION_TOKEN: change it there.';
    }
    if (current.identity === 'jupyterhub') {
      // Inside JupyterHub there is nothing to paste: calls carry the user's own Hub identity.
      tokenLabel.hidden = true;
      note.textContent = `Set by your JupyterHub: you reach it as ${current.hubUser ?? 'your Hub user'}, with your Hub sign-in (no token to paste).`;
    }
  }

  getValue(): { url: string; token: string } {
    return { url: this.url.value.trim(), token: this.token.value };
  }
}

/**
 * "Production server…": sets, replaces or forgets the production target. A refusal (a URL
 * that does not answer, a token the server refuses) is shown naming the field, and the
 * dialog opens again with what was typed, the token excepted.
 */
export async function configureProduction(host: ProductionSettingsHost): Promise<void> {
  let current = await host.read();
  for (;;) {
    const body = new ProductionBody(current);
    const buttons = [Dialog.cancelButton(), ...(current.source === 'file' ? [Dialog.warnButton({ label: 'Forget' })] : []), Dialog.okButton({ label: 'Save' })];
    const answer = await showDialog({ title: 'Production server', body, buttons, focusNodeSelector: 'input.cg-ProductionUrl' });
    if (answer.button.label === 'Forget') return host.forget();
    if (!answer.button.accept || answer.value === null || current.source === 'environment') return;
    try {
      return await host.configure(answer.value.url, answer.value.token);
    } catch (err) {
      const field = err instanceof ServerError && err.field !== undefined ? ` (${err.field})` : '';
      await showErrorMessage(`Production server${field}`, (err as Error).message);
      current = { ...current, url: answer.value.url };
    }
  }
}
