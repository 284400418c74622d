/**
 * The smallest spec the real trainer runs in seconds: mini-roberta (random init), LoRA r=2, the
 * GPT-2 tokenizer fixture, 16 training / 16 evaluation examples of synthetic tasks, one epoch of 2
 * steps, seed 0. `tasks` is the YAML of the block's tasks (a list or a map with per-task settings).
 */
const GPT2_TOKENIZER = new URL('../../../shared/fixtures/tokenizers/gpt2', import.meta.url).pathname;

export function realTinySpec(experiment: string, tasks: string): string {
  return `
experiment: ${experiment}
seeds: [0]
defaults: { tokenizer: ${GPT2_TOKENIZER}, epochs: 1, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 16, evalLimit: 16 }
grid:
  - models: [mini-roberta]
    methods: [{ method: lora, config: { r: 2 } }]
    tasks: ${tasks}
`;
}
