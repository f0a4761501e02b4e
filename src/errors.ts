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
      'WebGPU is not available in this browser (navigator.gpu is missing). Use a recent Chrome, Edge or ' +
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
      `This GPU's ${what} is ${available}, but this model needs ${needed}. Choose a smaller model or a ` +
        'shorter context, or use a device with larger limits.',
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
