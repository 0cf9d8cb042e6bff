/**
 * Makes sure the web client is built before the server starts: builds it (esbuild, a dev dependency) when the
 * bundle is missing or older than its sources; with a production install (no esbuild) a present bundle is used.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FatalError } from '../errors.ts';
import { projectPath } from '../project-root.ts';

const CLIENT_SRC = projectPath('client');

export async function ensureClientBuilt(distDir: string, log: (line: string) => void = () => {}): Promise<void> {
  const bundle = join(distDir, 'assets', 'app.js');
  const built = existsSync(bundle) && existsSync(join(distDir, 'index.html')) ? statSync(bundle).mtimeMs : 0;
  if (built > 0 && newestSource() <= built) return;
  try {
    const { buildClient } = await import('../../client/build.ts');
    const { bytes } = await buildClient({ outdir: distDir });
    log(`built the web client (${Math.round(bytes / 1024)} KiB)`);
  } catch (err) {
    if (built > 0) {
      log(`the web client bundle may be out of date and could not be rebuilt (${(err as Error).message})`);
      return;
    }
    throw new FatalError('client-not-built', `the web client is not built and building it failed: ${(err as Error).message} (run \`npm run build\` with dev dependencies installed)`);
  }
}

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(CLIENT_SRC);
  return newest;
}
