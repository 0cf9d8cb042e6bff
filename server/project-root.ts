/**
 * The project's root directory (where package.json, samples/, client/ live), found by walking up from this
 * module: the same answer whether the code runs from its TypeScript sources (server/…) or from the bundle
 * `npm run build` writes (dist/server/…), whose modules sit at other depths. Files the code reads at run time
 * (samples, the client, data) are named from here, never relative to a module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return dir;
    if (dirname(dir) === dir) throw new Error(`dmarc-lens: no project root (package.json of dmarc-lens) above ${start}`);
  }
}

function isProjectRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'dmarc-lens';
  } catch {
    return false;
  }
}

export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** a path under the project root */
export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
