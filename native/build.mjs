#!/usr/bin/env node
// Builds the optional native kernels (native/binding.gyp) with node-gyp, offline: `npm run build:native`.
//
// Needs a C compiler, make, python3 and Node's own headers (Debian's nodejs / NodeSource packages put
// them in /usr/include/node; official tarballs in <prefix>/include/node). No network: node-gyp gets
// --nodedir instead of downloading headers. OpenBLAS is opened at run time, so it is not needed to
// build (Debian: apt-get install libopenblas0-pthread, or libopenblas-dev, to use the kernels).
// Exit 0 with the addon in native/build/Release, or exit 1 with one line saying what is missing;
// lora-repro works either way (without the addon it uses tfjs's own wasm kernels).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function fail(msg) {
  console.error(`build:native: ${msg}`);
  process.exit(1);
}

/** A directory with include/node/node_api.h for this Node. */
function nodeDir() {
  const candidates = [
    process.env.LORA_REPRO_NODEDIR,
    process.env.npm_config_nodedir,
    resolve(dirname(process.execPath), '..'),
    '/usr',
    '/usr/local',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')) && existsSync(join(d, 'include', 'node', 'common.gypi')));
}

/** node-gyp: npm's bundled copy (npm sets npm_config_node_gyp for scripts), else a resolvable one. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.filter(Boolean).find((p) => existsSync(p));
}

const nodedir = nodeDir();
if (!nodedir) fail(`Node headers not found (include/node/node_api.h next to ${process.execPath}); set LORA_REPRO_NODEDIR`);
const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found (it ships with npm; run this as `npm run build:native`)');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--release'], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /error|not found|No such/i.test(l));
  fail(`node-gyp failed (exit ${r.status}): ${lines.slice(0, 3).join(' | ') || 'see `node-gyp rebuild` in native/'}`);
}
const addon = join(here, 'build', 'Release', 'lora_repro_native.node');
if (!existsSync(addon)) fail('node-gyp succeeded but produced no addon');
console.log(`build:native: built ${addon} (Node headers from ${nodedir})`);
