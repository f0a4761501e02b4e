/**
 * One named Error class per failure. Each message says what happened and what to do next
 * (web-llm error.ts). The UI shows `message` as text; `name` identifies the class across the
 * worker boundary, where prototypes are lost; each class spells its name as a literal.
 */

export class CrystalError extends Error {
  // A literal, in every class: a minifier renames classes, so `new.target.name` came out as "me" in the built app.
  override name = 'CrystalError';
}

export class WebGpuUnavailableError extends CrystalError {
  override name = 'WebGpuUnavailableError';
  constructor() {
    super(
      'WebGPU is not available in this browser (it offers no WebGPU entry point). Use a recent Chrome, Edge or ' +
        'Chromium; on Linux start it with --enable-unsafe-webgpu, or enable WebGPU in chrome://flags.',
    );
  }
}

export class NoGpuAdapterError extends CrystalError {
  override name = 'NoGpuAdapterError';
  constructor() {
    super(
      'WebGPU is present but no GPU adapter could be had. Update the graphics driver, or start Chromium ' +
        'with --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader to run on the CPU.',
    );
  }
}

export class GpuLimitError extends CrystalError {
  override name = 'GpuLimitError';
  constructor(what: string, needed: number, available: number) {
    super(
      `This GPU's ${what} is ${available}, but this model needs ${needed}. Choose a smaller model, a ` +
        'shorter context or a smaller KV budget, or use a device with larger limits.',
    );
  }
}

export class GpuOutOfMemoryError extends CrystalError {
  override name = 'GpuOutOfMemoryError';
  constructor(label: string, bytes: number) {
    super(
      `The GPU ran out of memory allocating ${label} (${(bytes / 2 ** 20).toFixed(1)} MiB). Close other ` +
        'GPU-heavy tabs, or choose a smaller model, a shorter context or a smaller KV budget.',
    );
  }
}

export class DeviceLostError extends CrystalError {
  override name = 'DeviceLostError';
  constructor(reason: string) {
    super(
      `The GPU device was lost (${reason}). This often follows running out of memory. The transcript is ` +
        'kept; reload the model, or choose a smaller model or KV budget.',
    );
  }
}

export class UnsupportedArchitectureError extends CrystalError {
  override name = 'UnsupportedArchitectureError';
  constructor(modelType: string, supported: readonly string[]) {
    super(
      `model_type "${modelType}" is not supported. Crystal runs ${supported.join(', ')}; pick a model of ` +
        'one of these families.',
    );
  }
}

export class InvalidConfigError extends CrystalError {
  override name = 'InvalidConfigError';
  constructor(detail: string) {
    super(`config.json is invalid: ${detail}. Check that the model folder is a complete Hugging Face export.`);
  }
}

export class MissingModelFileError extends CrystalError {
  override name = 'MissingModelFileError';
  constructor(file: string, where: string) {
    super(`${file} is missing from ${where}. Copy the whole Hugging Face model folder, including ${file}.`);
  }
}

export class WeightsFormatError extends CrystalError {
  override name = 'WeightsFormatError';
  constructor(detail: string) {
    super(
      `model.safetensors cannot be used: ${detail}. The file is truncated, corrupt or belongs to another ` +
        'model; download it again or check that config.json and the weights come from the same checkpoint.',
    );
  }
}

export class PromptTooLongError extends CrystalError {
  override name = 'PromptTooLongError';
  constructor(promptTokens: number, contextLength: number) {
    super(
      `The prompt is ${promptTokens} tokens but the context holds ${contextLength}. Shorten the prompt or ` +
        'raise the context length.',
    );
  }
}

export class BudgetTooSmallError extends CrystalError {
  override name = 'BudgetTooSmallError';
  constructor(budget: number, protectedEntries: number, policy: string) {
    super(
      `A KV budget of ${budget} is too small for policy "${policy}", which always keeps ` +
        `${protectedEntries} entries. Raise the budget above ${protectedEntries}.`,
    );
  }
}

export class GenerationAbortedError extends CrystalError {
  override name = 'GenerationAbortedError';
  constructor() {
    super('Generation was stopped.');
  }
}

export class DownloadCancelledError extends CrystalError {
  override name = 'DownloadCancelledError';
  constructor(url: string) {
    super(`The download of ${url} was cancelled. The files already stored are kept: download again to resume.`);
  }
}

export class DownloadFailedError extends CrystalError {
  override name = 'DownloadFailedError';
  constructor(url: string, detail: string) {
    super(
      `Downloading ${url} failed (${detail}). Check the network connection and download again; the files ` +
        'already stored are kept.',
    );
  }
}

export class DownloadCorruptError extends CrystalError {
  override name = 'DownloadCorruptError';
  constructor(url: string, expected: number, received: number) {
    super(
      `${url} arrived with ${received} bytes where ${expected} were expected; it was not kept. ` +
        'Download again; if it happens again, the model folder on the server is inconsistent.',
    );
  }
}

export class DownloadManifestError extends CrystalError {
  override name = 'DownloadManifestError';
  constructor(url: string, detail: string) {
    super(`${url} cannot be used: ${detail}. The folder is not a complete MLC model; choose another model or URL.`);
  }
}

export class StorageQuotaError extends CrystalError {
  override name = 'StorageQuotaError';
  constructor(url: string) {
    super(
      `The browser's storage is full, so ${url} could not be stored. Delete a downloaded model, press ` +
        '"Persist storage", or free disk space, then download again (the files already stored are kept).',
    );
  }
}

export class UnsupportedQuantizationError extends CrystalError {
  override name = 'UnsupportedQuantizationError';
  constructor(quantization: string, supported: readonly string[]) {
    super(
      `Quantization "${quantization}" is not supported. Crystal runs ${supported.join(', ')}; pick the model in ` +
        'one of these formats, or convert it with scripts/convert-mlc.ts.',
    );
  }
}

/** tensor-cache.json (or ndarray-cache.json) is not a list of shards and records we can read. */
export class TensorCacheFormatError extends CrystalError {
  override name = 'TensorCacheFormatError';
  constructor(detail: string) {
    super(`tensor-cache.json cannot be used: ${detail}. The MLC model folder is incomplete or corrupt; download it again.`);
  }
}

/** A shard's bytes are not the size its record says: a truncated or wrong download. */
export class ShardSizeError extends CrystalError {
  override name = 'ShardSizeError';
  constructor(file: string, expected: number, actual: number) {
    super(
      `${file} has ${actual} bytes but tensor-cache.json says ${expected} (a truncated or interrupted download?). ` +
        'Delete the cached model and download it again.',
    );
  }
}

export class ShardChecksumError extends CrystalError {
  override name = 'ShardChecksumError';
  constructor(file: string, expected: string, actual: string) {
    super(`${file} has md5 ${actual} but tensor-cache.json says ${expected}: the file is corrupt. Delete the cached model and download it again.`);
  }
}

/** One tensor record disagrees with the model: its name, shape, dtype or byte count. */
export class TensorRecordError extends CrystalError {
  override name = 'TensorRecordError';
  constructor(name: string, detail: string) {
    super(`Tensor ${name}: ${detail}. The weights do not belong to this mlc-chat-config.json, or the folder is corrupt.`);
  }
}

export class PolicyParamError extends CrystalError {
  override name = 'PolicyParamError';
  constructor(policy: string, problem: string, allowed: string) {
    super(`Eviction policy "${policy}": ${problem}. It takes ${allowed || 'no parameters'}.`);
  }
}

export class PolicyBackendError extends CrystalError {
  override name = 'PolicyBackendError';
  constructor(policy: string, backend: string, reason: string) {
    super(`Eviction policy "${policy}" cannot run on the ${backend}: ${reason}. Choose the CPU reference engine or another setting.`);
  }
}

/** A request field outside what the engine accepts: names the field, what it may be, and what it was. */
export class InvalidRequestError extends CrystalError {
  override name = 'InvalidRequestError';
  constructor(
    readonly field: string,
    allowed: string,
    got: unknown,
  ) {
    super(`Invalid request: ${field} must be ${allowed}; got ${typeof got === 'string' ? JSON.stringify(got) : String(got)}.`);
  }
}

export class UnsupportedFieldError extends CrystalError {
  override name = 'UnsupportedFieldError';
  constructor(
    readonly field: string,
    why: string,
  ) {
    super(`${field} is not supported by Crystal's engine: ${why}. Leave it out of the request.`);
  }
}

export class ModelNotFoundError extends CrystalError {
  override name = 'ModelNotFoundError';
  constructor(modelId: string, known: readonly string[]) {
    super(
      `No model record has model_id "${modelId}". Give one in engineConfig.appConfig.model_list, or pick one of ` +
        `${known.length > 0 ? known.join(', ') : 'the catalogue'}.`,
    );
  }
}

export class ModelNotLoadedError extends CrystalError {
  override name = 'ModelNotLoadedError';
  /** `remedy`: the call that loads one in the caller's API (web-llm's reload, the engine core's load). */
  constructor(what: string, remedy = 'reload(modelId)') {
    super(`No model is loaded (${what}): call ${remedy} first.`);
  }
}

export class UnsupportedOperationError extends CrystalError {
  override name = 'UnsupportedOperationError';
  constructor(operation: string, why: string) {
    super(`${operation} is not supported by Crystal's engine: ${why}.`);
  }
}
