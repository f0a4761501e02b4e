#!/usr/bin/env bash
# Crystal on a real GPU, offline: the benchmarks of `npm run bench -- --node` on a bare Linux
# x86-64 host with a GPU driver and nothing else (no Node, no npm, no network). Made by
# `npm run bundle:gpu`; everything it runs is in this folder, and nothing downloads anything.
#
#   ./run.sh [quick] [OUT]      OUT: the folder for the logs (default: results/ here)
#
# In order, each step under its own time limit, each step's output in OUT:
#   1. libraries: the glibc and libstdc++ that node and dawn.node need (libs.txt)
#   2. the Qwen3-0.6B-shaped model, q4f16_1 with random weights, built here (model.txt)
#   3. the Vulkan driver and the GPU adapter (adapter.txt): a GPU is required, never a CPU driver
#      unless one is named with VK_DRIVER_FILES
#   4. the decode table: contexts 1K and 4K, full and crystal at a 1024-entry budget (decode.txt)
#   5. the agreement: the GPU engine's generations of the bundled model under every GPU policy at
#      `all` 96 and `think` 64 (the first 5 prompts; 2 with quick) against the CPU reference's
#      recorded outcomes (app/expected.json): answers, think lengths and token counts identical, on
#      the GPU's own code paths (agreement.txt)
#   6. the kernel table: each kernel against the adapter's own bandwidth (kernels.txt)
#   7. the peer (llama.cpp in Chromium) only where Chromium is: never in this bundle (peer.txt says so)
# The decode table comes before the kernels, so a later timeout keeps it.
#
# Settings (environment): VK_DRIVER_FILES the Vulkan driver manifest (else found: see adapter.txt);
# LAYERS (model layers, default the real 28), CONTEXTS (default 1024,4096), TOKENS, RUNS, BUDGET
# (default 1024), SECTIONS (kernel sections, default all), AGREE_POLICIES and AGREE_PROMPTS (the
# agreement's policies and prompts, default every GPU policy and 5), and the limits in seconds
# T_MODEL, T_ADAPTER, T_DECODE, T_AGREE, T_KERNELS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
quick=
[ "${1:-}" = quick ] && { quick=1; shift; }
out=${1:-$here/results}
mkdir -p "$out/tmp"
out=$(cd "$out" && pwd)
export TMPDIR="$out/tmp" HOME="$out/tmp" XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$out/tmp}"
runs=${RUNS:-5} tokens=${TOKENS:-128}
[ -n "$quick" ] && runs=${RUNS:-2} tokens=${TOKENS:-32}
contexts=${CONTEXTS:-1024,4096} budget=${BUDGET:-1024}
status=0
say() { echo "$*" | tee -a "$out/run.txt"; }

# One step: its name, its time limit, its log, the command. A step that fails or runs out of time is said so, and the run goes on.
step() {
  local name=$1 limit=$2 log=$3
  shift 3
  say "== $name (limit ${limit}s) -> $log"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$out/$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then say "== $name: stopped at its limit of ${limit}s"; status=1
  elif [ "$rc" != 0 ]; then say "== $name: failed (exit $rc)"; status=1; fi
  return "$rc"
}

# 1. Libraries. glibc cannot be carried; libstdc++ can (lib/fallback), and is used only where the host's is older.
check_libs() {
  local need_glibc=@GLIBC@ need_glibcxx=@GLIBCXX@ have fallback=
  have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
  [ -n "$have" ] || have=$(ldd --version 2>/dev/null | head -1 | grep -o '[0-9]\+\.[0-9]\+$')
  echo "glibc: host ${have:-unknown}, needed $need_glibc (by node and dawn.node)"
  if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$need_glibc" "$have" | sort -V | head -1)" != "$need_glibc" ]; then
    echo "MISSING: glibc $need_glibc or newer (this host has ${have:-none found}); a glibc cannot be carried in the bundle"
    return 1
  fi
  local lib= d
  for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /usr/lib /lib; do
    [ -e "$d/libstdc++.so.6" ] && { lib="$d/libstdc++.so.6"; break; }
  done
  if [ -n "$lib" ] && grep -aq "GLIBCXX_$need_glibcxx" "$lib"; then
    echo "libstdc++: $lib has GLIBCXX_$need_glibcxx"
  else
    echo "libstdc++: ${lib:-none found} lacks GLIBCXX_$need_glibcxx: using the bundle's (lib/fallback)"
    fallback=1
  fi
  echo "Vulkan loader: the bundle's lib/libvulkan.so.1"
  [ -n "$fallback" ] && echo fallback >"$out/tmp/libstdc++-fallback"
  return 0
}
rm -f "$out/tmp/libstdc++-fallback"
say "== libraries -> libs.txt"
check_libs 2>&1 | tee "$out/libs.txt"
[ "${PIPESTATUS[0]}" = 0 ] || { say "== stopping: the libraries above are missing"; exit 1; }
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -e "$out/tmp/libstdc++-fallback" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$here/lib/fallback"
node=$here/node

# 2. The model, built here (random weights, the real shapes and tokenizer).
model=real-models/qwen3-0.6b
if [ ! -f "$model/mlc-chat-config.json" ]; then
  step model "${T_MODEL:-600}" model.txt "$node" app/make-real-shape-models.mjs --only qwen3-0.6b --out real-models --tokenizer app/tokenizer-qwen3 ${LAYERS:+--layers "$LAYERS"} || exit 1
fi

# 3-5. The adapter, the decode table, the kernel table.
step adapter "${T_ADAPTER:-60}" adapter.txt "$node" app/bench.mjs --node --require-gpu --adapter || exit 1
step decode "${T_DECODE:-600}" decode.txt "$node" app/bench.mjs --node --require-gpu --model "/$model/" --contexts "$contexts" --budget "$budget" --tokens "$tokens" --runs "$runs"
agree_policies=${AGREE_POLICIES:-streaming,random,h2o,h2o-decay,tova,snapkv-d,r-kv,laprox,crystal,crystal-lite}
agree_prompts=${AGREE_PROMPTS:-5}
[ -n "$quick" ] && agree_prompts=${AGREE_PROMPTS:-2}
# Both cells in one step (a function, run by the step's bash under its time limit).
agree() {
  for cell in "all 96" "think 64"; do
    set -- $cell
    echo "== $1 $2 on the first $agree_prompts prompts"
    "$node" app/eval.mjs --engine gpu --model app/models/tiny-reasoner-qwen3 --policies "$agree_policies" --mode "$1" --budgets "$2" \
      --limit "$agree_prompts" --compare app/expected.json --out "$out/tmp/agreement-$1" || return 1
  done
}
export node out agree_policies agree_prompts
export -f agree
step agreement "${T_AGREE:-600}" agreement.txt bash -c agree
step kernels "${T_KERNELS:-600}" kernels.txt "$node" app/bench.mjs --node --require-gpu --kernels --runs "$runs" ${quick:+--quick} ${SECTIONS:+--sections "$SECTIONS"}

# 6. The peer runs in a browser; this bundle carries none.
if command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then
  say "== peer: skipped: Chromium is here, but the peer needs the repository (npm run bench:peer), not this bundle" | tee "$out/peer.txt"
else
  say "== peer: skipped: no Chromium on this host (the peer, llama.cpp's WebGPU backend, runs in a browser)" | tee "$out/peer.txt"
fi
say "== done: exit $status; logs in $out"
exit $status
