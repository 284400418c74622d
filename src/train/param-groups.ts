/**
 * Which trainable tensors get weight decay. run_glue.py (HF Trainer) puts every parameter whose name
 * contains "bias" or "LayerNorm.weight" in a group with weight_decay 0; we apply the same rule to every
 * naming scheme we have: biases, RoBERTa's `LayerNorm`/`layer_norm`, GPT-2's `ln_1`/`ln_2`/`ln_f`, and the
 * adapters' own `ln`. (The reference GPT-2 trainer decays every trainable tensor, but with LoRA those are
 * only the A and B matrices, which decay under both rules.)
 */
const NO_DECAY = /(^|\.)bias$|(^|\.)(LayerNorm|layer_norm|ln|ln_\w+)\.weight$/;

export function isNoDecay(name: string): boolean {
  return NO_DECAY.test(name);
}
