/**
 * Sizes of position-rank.wgsl's scratch, the ranking by position that policy-score and
 * select-model share: a bit per position the context holds, and a prefix count per word.
 */

/** Mask words for `positions` positions (at least one). */
export const maskWords = (positions: number): number => Math.max(1, Math.ceil(positions / 32));

/** u32 words of one head's scratch region: the mask, then each word's prefix count. */
export const rankScratchWords = (positions: number): number => 2 * maskWords(positions);
