/** "Show more" under a paged table: fetches the next page and appends its rows. */
import { getJson, type Params, type Table } from '../api.ts';
import { h } from '../dom.ts';

export function loadMore<R>(path: string, params: Params, next: string | null, appendRows: (rows: R[]) => void): HTMLElement | null {
  if (!next) return null;
  let cursor: string | null = next;
  const button = h('button', { class: 'button', attrs: { type: 'button' } }, 'Show more');
  button.addEventListener('click', async () => {
    if (!cursor) return;
    button.disabled = true;
    const page: Table<R> = await getJson<Table<R>>(path, { ...params, cursor });
    appendRows(page.rows);
    cursor = page.next;
    button.disabled = false;
    if (!cursor) button.remove();
  });
  return h('div', { class: 'more' }, button);
}
