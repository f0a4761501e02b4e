#!/bin/sh
# The bundled model's MLC forms in public/models/ (committed; re-run after changing the converter).
# q0f32 is written with raw float32 records so it holds the Hugging Face weights bit for bit;
# mlc-llm's default f32-to-bf16 encoding would make it a bfloat16 model.
set -e
src=public/models/tiny-reasoner-qwen3
npx tsx scripts/convert-mlc.ts --in $src --out public/models/tiny-reasoner-qwen3-q4f32_1-MLC --quantization q4f32_1
npx tsx scripts/convert-mlc.ts --in $src --out public/models/tiny-reasoner-qwen3-q0f32-MLC --quantization q0f32 --encode raw
