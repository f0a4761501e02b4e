/**
 * The shared pool of KV pages. A page holds PAGE_SIZE slots of one (layer, kvHead); every head
 * draws from the same pool, so capacity can move between heads without new buffers.
 */
import { assert } from '../assert.ts';

export interface PagePool {
  numPages: number;
  free: number[]; // stack of free page ids
  used: Uint8Array; // (numPages) 1 while a head owns the page
}

export function createPagePool(numPages: number): PagePool {
  const free: number[] = [];
  for (let p = numPages - 1; p >= 0; p--) free.push(p); // page 0 is handed out first
  return { numPages, free, used: new Uint8Array(numPages) };
}

export function allocatePage(pool: PagePool): number {
  const page = pool.free.pop();
  assert(page !== undefined, 'page pool exhausted: the cache was sized for fewer tokens');
  pool.used[page] = 1;
  return page;
}

export function releasePage(pool: PagePool, page: number): void {
  assert(pool.used[page] === 1, `page ${page} released twice`);
  pool.used[page] = 0;
  pool.free.push(page);
}
