/**
 * One named Error class per failure. Each message says what happened and what to do next
 * (web-llm error.ts). The UI shows `message` as text; `name` identifies the class across the
 * worker boundary, where prototypes are lost.
 */

export class CrystalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class WebGpuUnavailableError extends CrystalError {
  constructor() {
    super(
      'WebGPU is not available in this browser (it offers no WebGPU entry point). Use a recent Chrome, Edge or ' +
        'Chromium; on Linux start it with --enable-unsafe-webgpu, or enable WebGPU in chrome://flags.',
    );
  }
}

export class NoGpuAdapterError extends CrystalError {
  constructor() {
    super(
      'WebGPU is present but no GPU adapter could be had. Update the graphics driver, or start Chromium ' +
        'with --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader to run on the CPU.',
    );
  }
}

export class GpuLimitError extends CrystalError {
  constructor(what: string, needed: number, available: number) {
    super(
      `This GPU's ${what} is ${available}, but this model needs ${needed}. Choose a smaller model, a ` +
        'shorter context or a smaller KV budget, or use a device with larger limits.',
    );
  }
}

export class GpuOutOfMemoryError extends CrystalError {
  constructor(label: string, bytes: number) {
    super(
      `The GPU ran out of memory allocating ${label} (${(bytes / 2 ** 20).toFixed(1)} MiB). Close other ` +
        'GPU-heavy tabs, or choose a smaller model, a shorter context or a smaller KV budget.',
    );
  }
}

export class DeviceLostError extends CrystalError {
  constructor(reason: string) {
    super(
      `The GPU device was lost (${reason}). This often follows running out of memory. The transcript is ` +
        'kept; reload the model, or choose a smaller model or KV budget.',
    );
  }
}

export class UnsupportedArchitectureError extends CrystalError {
  constructor(modelType: string, supported: readonly string[]) {
    super(
      `model_type "${modelType}" is not supported. Crystal runs ${supported.join(', ')}; pick a model of ` +
        'one of these families.',
    );
  }
}

export class InvalidConfigError extends CrystalError {
  constructor(detail: string) {
    super(`config.json is invalid: ${detail}. Check that the model folder is a complete Hugging Face export.`);
  }
}

export class MissingModelFileError extends CrystalError {
  constructor(file: string, where: string) {
    super(`${file} is missing from ${where}. Copy the whole Hugging Face model folder, including ${file}.`);
  }
}

export class WeightsFormatError extends CrystalError {
  constructor(detail: string) {
    super(
      `model.safetensors cannot be used: ${detail}. The file is truncated, corrupt or belongs to another ` +
        'model; download it again or check that config.json and the weights come from the same checkpoint.',
    );
  }
}

export class PromptTooLongError extends CrystalError {
  constructor(promptTokens: number, contextLength: number) {
    super(
      `The prompt is ${promptTokens} tokens but the context holds ${contextLength}. Shorten the prompt or ` +
        'raise the context length.',
    );
  }
}

export class BudgetTooSmallError extends CrystalError {
  constructor(budget: number, protectedEntries: number, policy: string) {
    super(
      `A KV budget of ${budget} is too small for policy "${policy}", which always keeps ` +
        `${protectedEntries} entries. Raise the budget above ${protectedEntries}.`,
    );
  }
}

export class GenerationAbortedError extends CrystalError {
  constructor() {
    super('Generation was stopped.');
  }
}

export class DownloadCancelledError extends CrystalError {
  constructor(url: string) {
    super(`The download of ${url} was cancelled. The files already stored are kept: download again to resume.`);
  }
}

export class DownloadFailedError extends CrystalError {
  constructor(url: string, detail: string) {
    super(
      `Downloading ${url} failed (${detail}). Check the network connection and download again; the files ` +
        'already stored are kept.',
    );
  }
}

export class DownloadCorruptError extends CrystalError {
  constructor(url: string, expected: number, received: number) {
    super(
      `${url} arrived with ${received} bytes where ${expected} were expected; it was not kept. ` +
        'Download again; if it happens again, the model folder on the server is inconsistent.',
    );
  }
}

export class DownloadManifestError extends CrystalError {
  constructor(url: string, detail: string) {
    super(`${url} cannot be used: ${detail}. The folder is not a complete MLC model; choose another model or URL.`);
  }
}

export class StorageQuotaError extends CrystalError {
  constructor(url: string) {
    super(
      `The browser's storage is full, so ${url} could not be stored. Delete a downloaded model, press ` +
        '"Persist storage", or free disk space, then download again (the files already stored are kept).',
    );
  }
}

export class UnsupportedQuantizationError extends CrystalError {
  constructor(quantization: string, supported: readonly string[]) {
    super(
      `Quantization "${quantization}" is not supported. Crystal runs ${supported.join(', ')}; pick the model in ` +
        'one of these formats, or convert it with scripts/convert-mlc.ts.',
    );
  }
}

/** tensor-cache.json (or ndarray-cache.json) is not a list of shards and records we can read. */
export class TensorCacheFormatError extends CrystalError {
  constructor(detail: string) {
    super(`tensor-cache.json cannot be used: ${detail}. The MLC model folder is incomplete or corrupt; download it again.`);
  }
}

/** A shard's bytes are not the size its record says: a truncated or wrong download. */
export class ShardSizeError extends CrystalError {
  constructor(file: string, expected: number, actual: number) {
    super(
      `${file} has ${actual} bytes but tensor-cache.json says ${expected} (a truncated or interrupted download?). ` +
        'Delete the cached model and download it again.',
    );
  }
}

export class ShardChecksumError extends CrystalError {
  constructor(file: string, expected: string, actual: string) {
    super(`${file} has md5 ${actual} but tensor-cache.json says ${expected}: the file is corrupt. Delete the cached model and download it again.`);
  }
}

/** One tensor record disagrees with the model: its name, shape, dtype or byte count. */
export class TensorRecordError extends CrystalError {
  constructor(name: string, detail: string) {
    super(`Tensor ${name}: ${detail}. The weights do not belong to this mlc-chat-config.json, or the folder is corrupt.`);
  }
}

export class PolicyParamError extends CrystalError {
  constructor(policy: string, problem: string, allowed: string) {
    super(`Eviction policy "${policy}": ${problem}. It takes ${allowed || 'no parameters'}.`);
  }
}

export class PolicyBackendError extends CrystalError {
  constructor(policy: string, backend: string, reason: string) {
    super(`Eviction policy "${policy}" cannot run on the ${backend}: ${reason}. Choose the CPU reference engine or another setting.`);
  }
}
