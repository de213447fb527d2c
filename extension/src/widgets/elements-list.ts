import type { ElementState, ElementsQuery, TaskElementsResponse } from '@cellgraph/schema';
import { elementCountsTitle, elementRow } from '../dag/state';
import { el } from './dom';

/** Elements shown per page: a task of 10,000 elements is read a page at a time. */
export const ELEMENTS_PAGE = 50;

const FILTERS: ['' | ElementState, string][] = [
  ['', 'all'],
  ['failed', 'failed'],
  ['running', 'running'],
  ['pending', 'not started'],
  ['succeeded', 'succeeded'],
  ['cached', 'cached']
];

/** What the list needs: one page of elements (the elements route), and what picking one does. */
export interface ElementsSource {
  page(query: ElementsQuery): Promise<TaskElementsResponse>;
  /** An element was picked: show its logs. */
  pick(element: number): Promise<void>;
}

/**
 * A foreach task's elements in the task details under the DAG: a state filter, pages of
 * ELEMENTS_PAGE rows (index, state, attempts, duration, error) and Prev/Next; clicking a row
 * opens that element's logs. The panel calls refresh() as the run changes, so the list
 * keeps its filter and page while counts move.
 */
export class ElementsList {
  readonly node = el('div', 'cg-Elements');
  private readonly filter = el('select', 'cg-ElementsFilter');
  private readonly status = el('span', 'cg-ElementsStatus');
  private readonly prev = el('button', 'cg-ElementsPrev jp-mod-styled', '‹ Prev');
  private readonly next = el('button', 'cg-ElementsNext jp-mod-styled', 'Next ›');
  private readonly table = el('table', 'cg-ElementsTable');
  private offset = 0;
  private seq = 0;

  constructor(private readonly source: ElementsSource) {
    for (const [value, label] of FILTERS) this.filter.append(new Option(label, value));
    this.filter.onchange = () => {
      this.offset = 0;
      void this.refresh();
    };
    this.prev.onclick = () => {
      this.offset = Math.max(0, this.offset - ELEMENTS_PAGE);
      void this.refresh();
    };
    this.next.onclick = () => {
      this.offset += ELEMENTS_PAGE;
      void this.refresh();
    };
    const bar = el('div', 'cg-ElementsBar');
    bar.append(el('span', '', 'Elements'), this.filter, this.prev, this.next, this.status);
    this.node.append(bar, this.table);
  }

  /** Fetches the current page again; an answer to an older request is dropped. */
  async refresh(): Promise<void> {
    const seq = ++this.seq;
    const state = this.filter.value === '' ? undefined : (this.filter.value as ElementState);
    try {
      const page = await this.source.page({ state, offset: this.offset, limit: ELEMENTS_PAGE });
      if (seq !== this.seq) return;
      this.render(page);
    } catch (err) {
      if (seq !== this.seq) return;
      this.status.textContent = (err as Error).message;
    }
  }

  private render(page: TaskElementsResponse): void {
    const last = Math.min(page.offset + page.elements.length, page.matching);
    this.status.textContent = page.matching === 0 ? `none of ${page.counts.total}` : `${page.offset + 1}–${last} of ${page.matching}`;
    this.status.title = elementCountsTitle(page.counts);
    this.prev.disabled = page.offset === 0;
    this.next.disabled = last >= page.matching;
    const head = el('tr', '');
    for (const h of ['element', 'state', 'attempts', 'duration', 'error']) head.append(el('th', '', h));
    const rows = page.elements.map((e) => {
      const r = elementRow(e);
      const tr = el('tr', 'cg-Element');
      tr.dataset.element = String(e.index);
      tr.dataset.state = e.state;
      tr.title = `Logs of element ${e.index}${e.error !== undefined ? `\n${e.error}` : ''}`;
      tr.append(el('td', 'cg-ElementIndex', r.index), el('td', 'cg-ElementState', r.state), el('td', '', r.attempts), el('td', 'cg-Duration', r.duration), el('td', 'cg-ElementError', r.error));
      tr.onclick = () => void this.source.pick(e.index);
      return tr;
    });
    this.table.replaceChildren(head, ...rows);
  }
}
