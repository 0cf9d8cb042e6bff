/**
 * Issue 4, enrichment wiring: ingest never looks anything up (enrichment runs after it, apart from it), and
 * `dmarc-lens enrich` sends every reverse-DNS and forward-confirmation query to the server named by
 * DMARC_LENS_RESOLVER, or by --resolver, which wins over the environment. A loopback DNS server counts the
 * queries, so "nothing was asked" is an exact assertion.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEnrichCommand } from '../../server/commands/enrich.ts';
import { openDatabase } from '../../server/store/database.ts';
import { createEnrichmentCacheStore } from '../../server/store/enrichment-cache-store.ts';
import { startPtrDns, type PtrDns } from '../helpers/ptr-dns.ts';
import { reportXml, SEP_1 } from './scenario-fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/dmarc-lens.js', import.meta.url));
const IPS = ['192.0.2.10', '192.0.2.20', '198.51.100.66'];

let dir: string;
let db: string;
let dns: PtrDns;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-senders-enrich-'));
  db = `sqlite:${join(dir, 'enrich.db')}`;
  dns = await startPtrDns({
    synthesize: true,
    ptr: { '192.0.2.10': ['mail.acme-corp.com'], '198.51.100.66': 'NXDOMAIN' },
    a: { 'mail.acme-corp.com': ['192.0.2.10'] },
  });
});

afterAll(async () => {
  await dns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** the real command in a child process (asynchronous: the DNS server lives in this process's event loop) */
function spawnCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DMARC_LENS_CONFIG: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** `dmarc-lens enrich` in-process, with the given environment */
async function enrich(args: string[], env: NodeJS.ProcessEnv): Promise<{ exitCode: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const program = new Command('dmarc-lens').exitOverride().configureOutput({ writeOut: (s) => void (err += s), writeErr: (s) => void (err += s) });
  registerEnrichCommand(program, { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) }, env });
  try {
    await program.parseAsync(['enrich', '--db', db, '--timeout', '2000', '--json', ...args], { from: 'user' });
    return { exitCode: 0, out, err };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { exitCode: e.exitCode, out, err };
  }
}

async function cached(): Promise<Map<string, { ptr: string | null; forwardConfirmed: boolean | null; dnsError: string | null }>> {
  const database = await openDatabase(db);
  try {
    const rows = await createEnrichmentCacheStore(database.driver).getMany(IPS);
    return new Map([...rows].map(([ip, s]) => [ip, s.enrichment]));
  } finally {
    await database.close();
  }
}

describe('enrichment runs apart from ingest, on the resolver the operator names', () => {
  it('ingest stores the reports without a single DNS query, even with a resolver configured', async () => {
    const file = join(dir, 'acme.xml');
    writeFileSync(
      file,
      reportXml({ id: 'senders-enrich', org: 'example.net', begin: SEP_1, end: SEP_1 + 86_399, rows: IPS.map((ip) => ({ ip, count: 5, dkimEval: 'fail' as const, spfEval: 'fail' as const })) }),
    );
    const r = await spawnCli(['ingest', file, '--db', db], { DMARC_LENS_DB: '', DMARC_LENS_RESOLVER: dns.address });
    expect(r.code, r.stderr).toBe(0);
    expect(dns.total()).toBe(0);
    expect((await cached()).size).toBe(0);
  }, 60_000);

  it('enrich asks the server in DMARC_LENS_RESOLVER when no --resolver is given', async () => {
    const r = await enrich([], { DMARC_LENS_RESOLVER: dns.address, DMARC_LENS_DB: '', DMARC_LENS_CONFIG: '' });
    expect(r.exitCode, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ done: 3, lookedUp: 3, errors: 1, errorsByKind: { nxdomain: 1 } });
    expect(dns.counts.PTR).toBe(3);
    expect(dns.counts.A).toBe(2); // forward confirmation of the two names found
    const c = await cached();
    expect(c.get('192.0.2.10')).toMatchObject({ ptr: 'mail.acme-corp.com', forwardConfirmed: true });
    expect(c.get('192.0.2.20')).toMatchObject({ ptr: 'h-192-0-2-20.ptr.test', forwardConfirmed: true });
    expect(c.get('198.51.100.66')).toMatchObject({ ptr: null, dnsError: 'nxdomain' });
  });

  it('--resolver wins over DMARC_LENS_RESOLVER', async () => {
    const other = await startPtrDns({ ptr: { '192.0.2.10': ['relay.other.test'] }, a: { 'relay.other.test': ['192.0.2.10'] } });
    try {
      const before = dns.total();
      const r = await enrich(['--force', '--resolver', other.address], { DMARC_LENS_RESOLVER: dns.address, DMARC_LENS_DB: '', DMARC_LENS_CONFIG: '' });
      expect(r.exitCode, r.err).toBe(0);
      expect(dns.total()).toBe(before);
      expect(other.counts.PTR).toBe(3);
      expect((await cached()).get('192.0.2.10')).toMatchObject({ ptr: 'relay.other.test', forwardConfirmed: true });
    } finally {
      await other.stop();
    }
  });

  it('a malformed DMARC_LENS_RESOLVER is a usage error naming the value', async () => {
    const r = await enrich([], { DMARC_LENS_RESOLVER: 'dns.example:53', DMARC_LENS_DB: '', DMARC_LENS_CONFIG: '' });
    expect(r.exitCode).toBe(2);
    expect(r.err).toContain('"dns.example:53"');
  });
});
