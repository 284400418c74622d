#!/usr/bin/env bash
# On a machine with a real GPU: which adapter WebGPU gets, parity of every fixture on it, the
# training-step benchmark on WebGPU and wasm, and the ratio to PyTorch where it is installed.
# Not yet on the GPU for PyTorch: bench/pytorch_reference.py runs its step on the CPU, so the ratio
# printed is against CPU PyTorch; a CUDA device option there is the missing piece.
# Usage: bash bench/gpu-check.sh [mini-roberta|mini-gpt2] [lora|ft]
set -uo pipefail
cd "$(dirname "$0")/.."
model=${1:-mini-roberta}
method=${2:-lora}
cli="node bin/lora-repro.mjs"
fixtures=${LORA_REPRO_FIXTURES:-../shared/fixtures/parity}

echo "== adapter"
$cli env --backend webgpu || { echo "gpu-check: WebGPU has no adapter here"; exit 1; }
echo "== parity (webgpu)"
for dir in "$fixtures"/*/; do
  if grep -Eq '"model_type": *"(roberta|gpt2)"' "$dir/config.json" 2>/dev/null; then
    $cli parity "$dir" --backend webgpu | tail -1 | sed "s|^|$(basename "$dir"): |"
  else
    echo "$(basename "$dir"): skipped (no model for its model_type yet)"
  fi
done
echo "== training step: webgpu, then wasm"
$cli bench train --model "$model" --method "$method" --backend webgpu
$cli bench train --model "$model" --method "$method" --backend wasm
if python3 -c 'import torch' 2>/dev/null; then
  echo "== PyTorch (CPU, see the header) against ours, ratio by bench compare"
  LORA_REPRO_BACKEND=webgpu $cli bench compare --models "$model" --methods "$method"
else
  echo "== PyTorch not found: no PyTorch ratio"
fi
