/**
 * The small chained spec both Slurm tests run (test/slurm.test.ts in-process, test/slurm-cluster.test.ts
 * on a real Slurm): one row, LoRA and BitFit on MNLI and RTE, two seeds, RTE's LoRA starting from
 * MNLI's (initFrom), so arrays must be ordered. `profile` is the body of the `test` profile's
 * flow mapping, e.g. ` slurm: { cpusPerRun: 1 } `.
 */
export const slurmSpec = (experiment: string, profile = ''): string => `
experiment: ${experiment}
seeds: [0, 1]
defaults: { epochs: 2, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 64 }
grid:
  - row: a
    models: [mini-roberta]
    methods: [lora, bitfit]
    tasks: { mnli: ~, rte: ~ }
    cells: [{ where: { method: lora, task: rte }, set: { initFrom: { task: mnli } } }]
profiles:
  test: {${profile}}
`;
