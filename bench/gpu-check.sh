#!/usr/bin/env bash
# On a machine with a real GPU: which adapter WebGPU gets, parity of every fixture on it, the
# training-step benchmark on WebGPU and wasm, and the ratio to PyTorch where it is installed.
# PyTorch runs its step on the GPU (--device cuda) when it sees one, else on the CPU (bench compare).
# Usage: bash bench/gpu-check.sh [bench-roberta|bench-gpt2] [lora|ft]
set -uo pipefail
cd "$(dirname "$0")/.."
model=${1:-bench-roberta}
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
# PyTorch on the same GPU: the same model, init and step (bench/pytorch_reference.py --device cuda).
py=${LORA_REPRO_PYTHON:-python3}
if "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "== PyTorch (CUDA) against ours on WebGPU, same step"
  ours=$($cli bench train --model "$model" --method "$method" --backend webgpu --json)
  theirs=$("$py" bench/pytorch_reference.py --model "$model" --method "$method" --device cuda)
  node -e '
    const [o, t] = process.argv.slice(1).map((s) => JSON.parse(s));
    console.log(`ours (webgpu): ${o.msPerStep.toFixed(2)} ms/step   pytorch (${t.device}): ${t.msPerStep.toFixed(2)} ms/step`);
    console.log(`ratio pytorch-time / our-time: ${(t.msPerStep / o.msPerStep).toFixed(3)} (1.0 = as fast as PyTorch)`);
  ' "$ours" "$theirs"
elif "$py" -c 'import torch' 2>/dev/null; then
  echo "== PyTorch has no CUDA device here: CPU PyTorch against ours (bench compare)"
  LORA_REPRO_BACKEND=webgpu $cli bench compare --models "$model" --methods "$method"
else
  echo "== PyTorch not found: no PyTorch ratio"
fi
