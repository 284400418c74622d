/** `lora-repro env`: the tensor backend and machine this process would train on. */
import os from 'node:os';
import { initBackend } from '../../backend/select.ts';
import type { WebGpuAdapterInfo } from '../../backend/webgpu.ts';
import { readPackageVersion } from '../../util/provenance.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

/** The WebGPU adapter as Dawn describes it, and the limits that bound tensor sizes. */
function adapterRows(a: WebGpuAdapterInfo | undefined): [string, string][] {
  if (a === undefined) return [];
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  return [
    ['adapter', `#${a.index} of ${a.adapters.length}: vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}`],
    ['driver', a.description || 'unknown'],
    ['software', a.software ? 'yes (fallback/software adapter: tests only, no paper runs)' : 'no'],
    ['limits', `max buffer ${mib(a.maxBufferSize)}, storage buffer binding ${mib(a.maxStorageBufferBindingSize)}`],
  ];
}

export const envCommand: Command = {
  name: 'env',
  summary: 'print the tensor backend (name, version, threads, SIMD, native kernels, GPU adapter) and the machine',
  usage: 'Usage: lora-repro env [--backend B] [--json]\n\nBackends are tried in the order tensorflow-gpu (if it shows a GPU), webgpu (on a hardware adapter), tensorflow, wasm, cpu unless --backend or LORA_REPRO_BACKEND names one.',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { backend: { type: 'string' }, json: { type: 'boolean', default: false } }, false);
    const b = await initBackend(values.backend);
    const info = {
      loraRepro: readPackageVersion(),
      backend: b.name,
      tfjsBackend: b.tfjsName,
      tfjsVersion: b.tfjsVersion,
      threads: b.threads,
      simd: b.simd,
      kernels: b.kernels,
      kernelsDetail: b.kernelsDetail,
      device: b.device,
      skipped: b.skipped,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    };
    if (values.json) {
      console.log(JSON.stringify(info, null, 2));
      return 0;
    }
    const rows: [string, string][] = [
      ['lora-repro', info.loraRepro],
      ['backend', `${info.backend} (tfjs ${info.tfjsBackend} ${info.tfjsVersion})`],
      ['threads', String(info.threads)],
      ['SIMD', info.simd ? 'yes' : 'no'],
      ['kernels', `${info.kernels}: ${info.kernelsDetail}`],
      ['device', `${info.device.summary}${info.device.hardwareGpu ? '' : ' (not a hardware GPU)'}`],
      ...adapterRows(info.device.adapter),
      ['node', info.node],
      ['machine', `${info.platform}, ${info.cpus} × ${info.cpuModel}, ${info.memoryGiB} GiB`],
      ...info.skipped.map((s): [string, string] => ['skipped', s]),
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(11)}${v}`);
    return 0;
  },
};
