/** The web client built into a temporary directory, for tests that serve the page (a clean checkout has no client/dist). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient } from '../../client/build.ts';

/** the client built into a temporary directory (removed by the returned function) */
export async function buildTestClient(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-client-'));
  await buildClient({ outdir: dir });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
