/**
 * tokenizer.json through @mlc-ai/web-tokenizers (Hugging Face tokenizers compiled to WASM).
 * Bundlers load the package directly; plain Node cannot import its UMD bundle as ESM, so Node
 * callers pass the module in (scripts/lib/node-web-tokenizers.ts).
 */

interface WasmTokenizer {
  encode(text: string): Int32Array;
  decode(ids: Int32Array): string;
  getVocabSize(): number;
}

export interface WebTokenizersModule {
  Tokenizer: { fromJSON(json: ArrayBuffer): Promise<WasmTokenizer> };
}

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  vocabSize: number;
}

export async function loadTokenizer(json: ArrayBuffer, lib?: WebTokenizersModule): Promise<TextTokenizer> {
  const mod = lib ?? ((await import('@mlc-ai/web-tokenizers')) as unknown as WebTokenizersModule);
  // fromJSON takes ownership of the bytes it is given.
  const wasm = await mod.Tokenizer.fromJSON(json.slice(0));
  return {
    encode: (text) => Array.from(wasm.encode(text)),
    decode: (ids) => wasm.decode(Int32Array.from(ids)),
    vocabSize: wasm.getVocabSize(),
  };
}

/**
 * Turns a growing list of generated ids into text pieces. Byte-level BPE can split one
 * character over several tokens, so a piece is released only once it no longer ends in the
 * replacement character; decoding restarts from a recent boundary to stay cheap.
 */
export function createStreamDecoder(tokenizer: TextTokenizer): { push(id: number): string; text(): string } {
  const ids: number[] = [];
  let released = '';
  let windowStart = 0; // ids before this are fully released
  let windowText = ''; // text of ids[windowStart..] already released
  return {
    push(id: number): string {
      ids.push(id);
      const text = tokenizer.decode(ids.slice(windowStart));
      if (text.endsWith('\uFFFD')) return '';
      const piece = text.slice(windowText.length);
      released += piece;
      windowText = text;
      if (ids.length - windowStart > 16) {
        windowStart = ids.length;
        windowText = '';
      }
      return piece;
    },
    text: () => released,
  };
}
