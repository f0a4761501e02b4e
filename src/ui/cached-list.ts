/**
 * The downloaded models (complete or partial, whoever fetched them: Crystal or web-llm), each
 * with its size and a Delete button. Names are set as text.
 */
import { formatBytes } from '../catalog/size.ts';
import type { ListedModel } from './model-list.ts';

export function renderCachedList(list: HTMLElement, models: readonly ListedModel[], onDelete: (m: ListedModel) => void, disabled: boolean): void {
  list.textContent = '';
  const here = models.filter((m) => m.cached && m.cached.state !== 'absent');
  if (here.length === 0) {
    list.append(Object.assign(document.createElement('li'), { textContent: 'No model downloaded yet.', className: 'hint' }));
    return;
  }
  for (const m of here) {
    const c = m.cached!;
    const item = document.createElement('li');
    item.dataset.id = m.id;
    item.dataset.state = c.state;
    const name = Object.assign(document.createElement('span'), { textContent: m.id, className: 'name' });
    const size =
      c.state === 'complete'
        ? formatBytes(c.storedBytes)
        : `partial: ${formatBytes(c.storedBytes)}${c.weightsBytes !== null ? ` of ${formatBytes(c.weightsBytes)}` : ''}`;
    const info = Object.assign(document.createElement('span'), { textContent: size, className: 'hint' });
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Delete', disabled });
    remove.setAttribute('aria-label', `Delete ${m.id}`);
    remove.addEventListener('click', () => onDelete(m));
    item.append(name, ' ', info, ' ', remove);
    list.append(item);
  }
}
