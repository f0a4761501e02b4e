/**
 * IEEE half and bfloat16 bit patterns to and from numbers, exactly as the GPU decodes them
 * (unpack2x16float; bf16 is the upper 16 bits of an f32). Rounding is to nearest even.
 */

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, NaN
  if (exp >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - exp; // to the subnormal's 10 bits
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = sign | (exp << 10) | (mant >> 13);
  return half + ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) === 0x1000 && half & 1) ? 1 : 0);
}

/** float32 → bfloat16 bits, round to nearest even (tvmjs and torch round the same way). */
export function floatToBf16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The value rounded to half precision (what an f16 tensor holds). */
export const roundHalf = (value: number): number => halfToFloat(floatToHalf(value));
