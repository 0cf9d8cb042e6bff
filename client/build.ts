/**
 * Builds the web client into client/dist: index.html, assets/app.js (TypeScript bundled with Chart.js by
 * esbuild) and assets/app.css. `npx tsx client/build.ts` or `buildClient()` (the server calls it when the bundle
 * is missing and esbuild is installed).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectPath } from '../server/project-root.ts';

// the project's client/ directory, also when this module runs bundled into dist/server/
const HERE = projectPath('client');
export const CLIENT_DIST = join(HERE, 'dist');

export async function buildClient(opts: { outdir?: string; minify?: boolean } = {}): Promise<{ outdir: string; bytes: number }> {
  const outdir = opts.outdir ?? CLIENT_DIST;
  const { build } = await import('esbuild');
  mkdirSync(join(outdir, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: join(HERE, 'src/main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    outdir: join(outdir, 'assets'),
    metafile: true,
    logLevel: 'silent',
  });
  await build({ entryPoints: { app: join(HERE, 'styles.css') }, bundle: true, minify: opts.minify ?? true, outdir: join(outdir, 'assets'), logLevel: 'silent' });
  copyFileSync(join(HERE, 'index.html'), join(outdir, 'index.html'));
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outdir, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outdir, bytes } = await buildClient();
  process.stdout.write(`client built into ${outdir} (${Math.round(bytes / 1024)} KiB of JavaScript)\n`);
}
