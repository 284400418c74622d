/**
 * Import rules of src/ (issue 19): the layer order of the README's "Architecture" section, checked by
 * `make lint` (`npx depcruise src --config .dependency-cruiser.cjs`). A module may import its own layer's
 * folders and any lower layer, never a higher one, and no two folders may import each other (directly
 * or round a longer loop). bench/ (repo root), test/, bin/ and notebooks/ are entry points: they may
 * import anything, and src/ never imports them.
 *
 * The rules are generated from LAYERS, so this list IS the layer order: change it here and in the README.
 */

/** Top layer first. Each entry: the folders of src/ in that layer. */
const LAYERS = [
  ['cli'],
  ['report'],
  // spec: expands a spec into train's run configs for the runner to plan; report and cli read it.
  // bench: drives train and generate to time them, as the runner drives train; only cli calls it.
  ['runner', 'spec', 'bench'],
  // pretrain: training too (the stand-ins' MLM/LM pretraining), on train's schedule and no-decay rule.
  ['train', 'pretrain'],
  // analysis: evaluates trained weights (subspaces, ΔW, intrinsic dimension) for report.
  // parity: checks models, LoRA and decoding against reference outputs; only cli calls it.
  ['data', 'methods', 'eval', 'generate', 'analysis', 'parity'],
  ['models'],
  ['backend', 'io', 'tokenizers', 'hub', 'tracking'],
  ['util'],
];

const folders = (list) => `^src/(${list.join('|')})/`;

/** One rule per layer: its folders must not import any folder of a higher layer. */
const layerRules = LAYERS.slice(1).map((layer, i) => {
  const above = LAYERS.slice(0, i + 1).flat();
  return {
    name: `layer-${layer.join('-')}`,
    severity: 'error',
    comment: `${layer.join(', ')} must not import a higher layer (${above.join(', ')}): README "Architecture"`,
    from: { path: folders(layer) },
    to: { path: folders(above) },
  };
});

const placed = LAYERS.flat();

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'two folders of src/ import each other (directly or round a loop): move the shared piece down a layer',
      scope: 'folder',
      from: { path: '^src/[^/]+/?$' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-entry-points',
      severity: 'error',
      comment: 'src/ must not import test/, bench/, bin/ or notebooks/ (entry points and test doubles live there)',
      from: { path: '^src/' },
      to: { path: '^(test|bench|bin|notebooks)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'an import depcruise cannot resolve is an edge these rules cannot check',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'unplaced-folder',
      severity: 'error',
      comment: 'a new folder of src/ must be given a layer in .dependency-cruiser.cjs (LAYERS) and the README',
      from: { path: '^src/', pathNot: folders(placed) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type is part of the layer that defines it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
    },
  },
};
