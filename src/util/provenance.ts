import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The version field of this package's package.json. */
export function readPackageVersion(): string {
  const path = fileURLToPath(new URL('../../package.json', import.meta.url));
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as { version: string };
  return pkg.version;
}
