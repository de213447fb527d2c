import { showErrorMessage } from '@jupyterlab/apputils';

/** An element with a class and, optionally, its text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A JupyterLab-styled button whose failures are shown in an error dialog titled with its label. */
export function button(className: string, text: string, onClick: () => Promise<void>, title?: string): HTMLButtonElement {
  const b = el('button', `${className} jp-mod-styled`, text);
  if (title !== undefined) b.title = title;
  b.onclick = () => {
    b.disabled = true;
    void onClick()
      .catch((err: Error) => showErrorMessage(text, err.message))
      .finally(() => (b.disabled = false));
  };
  return b;
}
