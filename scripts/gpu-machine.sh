#!/usr/bin/env bash
# The one prepared run for a machine with a real GPU (Linux, Vulkan, no display; e.g. an H100 or
# H200): through Node on Dawn, the kernel table (each kernel against the adapter's own bandwidth)
# and the decode table of the Qwen3-0.6B-shaped q4f16_1 model at 1K, 4K and 16K (full and crystal
# at a 1024-entry budget), then the peer comparison in Chromium on the GPU. Each table starts with
# the adapter string. Needs node_modules (npm ci) and the Vulkan loader; writes to $OUT (default
# gpu-results/). A bare GPU host (no Node, no npm, no network) takes `npm run bundle:gpu`'s archive
# instead, whose run.sh runs the same tables.
#   scripts/gpu-machine.sh [quick]     quick: fewer runs and contexts, for a first look
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
quick=${1:-}
runs=5 tokens=128 contexts=1024,4096,16384
[ "$quick" = quick ] && runs=2 tokens=32 contexts=1024,4096
[ -f real-models/qwen3-0.6b/mlc-chat-config.json ] || npx tsx scripts/make-real-shape-models.ts --only qwen3-0.6b
status=0
npx tsx bench/run.ts --node --kernels --runs "$runs" ${quick:+--quick} 2>&1 | tee "$out/kernels.txt" || status=1
npx tsx bench/run.ts --node --model /real-models/qwen3-0.6b/ --contexts "$contexts" --tokens "$tokens" --runs "$runs" 2>&1 | tee "$out/decode-qwen3-0.6b.txt" || status=1
# The peer (wllama, llama.cpp's WebGPU backend) runs in a browser: Chromium on the GPU through Vulkan.
if [ -n "$quick" ]; then
  echo "peer: skipped (quick)" | tee "$out/peer.txt"
elif ! command -v "${CHROMIUM_PATH:-chromium}" >/dev/null 2>&1; then
  echo "peer: skipped: no Chromium on this host (${CHROMIUM_PATH:-chromium}); the peer runs in a browser" | tee "$out/peer.txt"
else
  [ -f real-models/qwen3-0.6b-q4_0.gguf ] || npx tsx scripts/make-gguf.ts
  CHROMIUM_WEBGPU=gpu npx tsx bench/run-peer.ts --prompt 512 --tokens 128 --runs 3 2>&1 | tee "$out/peer.txt" || status=1
fi
exit $status
