/**
 * The page's error line: an engine error as its class name and message, set as text (a message
 * may quote a URL or a prompt). A lost GPU device also shows a Reload model control: the engine
 * dropped its backend, so nothing runs until the model is loaded again on a new device.
 */

export interface ErrorView {
  show(error: unknown): void;
  hide(): void;
  /** A DeviceLostError was shown and the model has not been reloaded since. */
  readonly deviceLost: boolean;
}

/** Errors cross the worker boundary as plain Errors carrying their class's `name` (errors.ts spells each as a literal). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** `reload`: loads the model again (the page's own loader); rejects as the load does. */
export function createErrorView(box: HTMLElement, reloadButton: HTMLButtonElement, reload: () => Promise<void>): ErrorView {
  let lost = false;
  const view: ErrorView = {
    show(error) {
      box.hidden = false;
      box.textContent = describeError(error);
      if (error instanceof Error && error.name === 'DeviceLostError') lost = true;
      reloadButton.hidden = !lost;
    },
    hide() {
      box.hidden = true;
      box.textContent = '';
    },
    get deviceLost() {
      return lost;
    },
  };
  reloadButton.addEventListener('click', async () => {
    reloadButton.disabled = true;
    view.hide();
    try {
      await reload();
      lost = false;
      reloadButton.hidden = true;
    } catch (e) {
      view.show(e);
    } finally {
      reloadButton.disabled = false;
    }
  });
  return view;
}
