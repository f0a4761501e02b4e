/** The prompt runner or the chat, one at a time: style.css hides the other by body[data-view]. */
import type { Settings } from './settings.ts';

type View = Settings['view'];

/** Shows `initial`; a radio's change calls `chosen` (the setting) and shows its view. */
export function createViewSwitch(radios: Record<View, HTMLInputElement>, initial: View, chosen: (view: View) => void): void {
  const show = (view: View) => {
    document.body.dataset.view = view;
    radios[view].checked = true;
  };
  for (const view of ['prompt', 'chat'] as const) {
    radios[view].addEventListener('change', () => {
      chosen(view);
      show(view);
    });
  }
  show(initial);
}
