#!/usr/bin/env node
// Entry point of the `dmarc-lens` command. Runs the bundle that `npm run build` (run by `npm install`) writes to
// dist/server/ when it is newer than every source file — plain JavaScript, quicker to start and lighter — and
// otherwise the TypeScript sources through tsx's loader (a checkout being edited, or a build that failed).
// DMARC_LENS_SOURCES=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'dist', 'server', 'cli.mjs');

/** newest modification time of the files under `dir` (the sources the bundle was built from) */
function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) t = Math.max(t, newest(full));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) t = Math.max(t, statSync(full).mtimeMs);
  }
  return t;
}

function bundleIsFresh() {
  if (process.env.DMARC_LENS_SOURCES === '1' || !existsSync(bundle)) return false;
  try {
    const built = statSync(bundle).mtimeMs;
    return newest(join(root, 'server')) <= built && statSync(join(root, 'client', 'build.ts')).mtimeMs <= built;
  } catch {
    return false;
  }
}

let main;
if (bundleIsFresh()) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../server/cli.ts'));
}
process.exitCode = await main(process.argv);
