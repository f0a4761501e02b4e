/**
 * The WebGPU platform: the one module that names WebGPU's globals. Everything else takes a `GPU`
 * object (requestGpu) and the spec's fixed numbers below, so the engine also runs where those
 * globals do not exist (Node with a WebGPU binding is one more file that supplies its `GPU`).
 */

/** The browser's WebGPU entry point (navigator.gpu), or undefined where there is none. */
export function browserGpu(): GPU | undefined {
  return globalThis.navigator?.gpu;
}

/** GPUBufferUsage's values, fixed by the WebGPU spec. */
export const BUFFER_USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 } as const;

/** GPUMapMode.READ. */
export const MAP_MODE_READ = 0x1;

/** A whole buffer, as opposed to a binding of a slice of one: told apart by shape, not by the GPUBuffer class. */
export function isWholeBuffer(b: GPUBuffer | GPUBufferBinding): b is GPUBuffer {
  return !('buffer' in b);
}
