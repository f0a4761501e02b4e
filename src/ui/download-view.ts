/**
 * A model download on the page: the progress bar, a status line with bytes, rate and time left,
 * and the Cancel button, around catalog/download.ts. One download at a time; resolves with
 * whether the model is now complete (false when cancelled; a failure rejects).
 */
import { downloadModel, type DownloadProgress } from '../catalog/download.ts';
import { formatDuration } from '../catalog/rate.ts';
import { formatBytes } from '../catalog/size.ts';
import { DownloadCancelledError } from '../errors.ts';

export interface DownloadView {
  run(url: string, name: string): Promise<boolean>;
  readonly busy: boolean;
}

export function createDownloadView(bar: HTMLProgressElement, status: HTMLElement, cancel: HTMLButtonElement): DownloadView {
  let controller: AbortController | null = null;
  cancel.addEventListener('click', () => controller?.abort());

  const show = (name: string, p: DownloadProgress) => {
    bar.max = p.total || 1;
    bar.value = p.loaded;
    const percent = p.total > 0 ? Math.floor((100 * p.loaded) / p.total) : 0;
    status.textContent =
      `Downloading ${name}: ${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${percent}%), ` +
      `${formatBytes(p.rate)}/s, ${formatDuration(p.secondsLeft)} left`;
    status.dataset.loaded = String(p.loaded);
    status.dataset.total = String(p.total);
  };

  return {
    get busy() {
      return controller !== null;
    },
    async run(url, name) {
      if (controller) throw new Error('A download is already running: cancel it first.');
      controller = new AbortController();
      bar.hidden = cancel.hidden = false;
      bar.value = 0;
      status.textContent = `Downloading ${name}…`;
      status.dataset.loaded = status.dataset.total = '0';
      document.body.dataset.downloading = 'true';
      try {
        const result = await downloadModel(url, { signal: controller.signal, onProgress: (p) => show(name, p) });
        status.textContent = `${name}: ${formatBytes(result.bytes)} stored (${formatBytes(result.fetchedBytes)} fetched now).`;
        return true;
      } catch (e) {
        if (!(e instanceof DownloadCancelledError)) {
          status.textContent = `The download of ${name} stopped; what arrived is kept, download again to resume.`;
          throw e;
        }
        status.textContent = `Download of ${name} cancelled at ${formatBytes(Number(status.dataset.loaded ?? 0))}; what arrived is kept, download again to resume.`;
        return false;
      } finally {
        controller = null;
        bar.hidden = cancel.hidden = true;
        document.body.dataset.downloading = 'false';
      }
    },
  };
}
