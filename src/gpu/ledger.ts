/**
 * The allocation ledger: bytes of every GPU buffer made through gpu/buffers.ts, live and peak,
 * per device. It is how the memory estimate is checked against what the engine really holds,
 * and how a soak test shows that nothing leaks.
 */
export interface Ledger {
  live: number; // bytes in buffers created and not yet destroyed
  peak: number;
  buffers: number; // live buffer count
}

const ledgers = new WeakMap<GPUDevice, Ledger>();

export function ledgerOf(device: GPUDevice): Ledger {
  let l = ledgers.get(device);
  if (!l) ledgers.set(device, (l = { live: 0, peak: 0, buffers: 0 }));
  return l;
}

/** Counts `buffer` until it is destroyed (its destroy() is wrapped; destroying twice counts once). */
export function track(device: GPUDevice, buffer: GPUBuffer): GPUBuffer {
  const l = ledgerOf(device);
  const bytes = buffer.size;
  l.live += bytes;
  l.buffers++;
  l.peak = Math.max(l.peak, l.live);
  const destroy = buffer.destroy.bind(buffer);
  let gone = false;
  buffer.destroy = () => {
    if (!gone) {
      gone = true;
      l.live -= bytes;
      l.buffers--;
    }
    destroy();
  };
  return buffer;
}
