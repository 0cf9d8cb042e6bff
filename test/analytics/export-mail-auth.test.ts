/**
 * `export reports` / `export records` show how each report arrived: the receiving server's verdict on the report
 * mail (report_metadata.mail_auth, null for files) and whether its policy domain is one of the configured domains
 * (null when none are configured).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerExportCommand } from '../../server/commands/export.ts';
import type { MailAuthVerdict } from '../../server/domain/report-types.ts';
import { openDatabase } from '../../server/store/database.ts';
import { batches, header, record } from './rollup-fixtures.ts';

let dir: string;
let db: string;
let config: string;
const mailAuth: MailAuthVerdict = { authservId: 'mx.mine.test', dkim: 'pass', dkimDomain: 'google.com', spf: 'pass', spfDomain: 'google.com', dmarc: 'pass', fromDomain: 'google.com', authenticated: true };

async function exportOf(args: string[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const program = new Command('dmarc-lens').exitOverride();
  registerExportCommand(program, { stdout: out });
  const saved = process.env.DMARC_LENS_DOMAINS;
  delete process.env.DMARC_LENS_DOMAINS;
  try {
    await program.parseAsync(['export', ...args, '--db', db], { from: 'user' });
  } finally {
    if (saved !== undefined) process.env.DMARC_LENS_DOMAINS = saved;
  }
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-mailauth-'));
  db = `sqlite:${join(dir, 'x.db')}`;
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ domains: ['example.com'] }));
  const database = await openDatabase(db);
  try {
    await database.reports.saveAggregate(header('by-mail', 1_700_000_000, 1_700_086_399), batches([record(0)], 1), { input: 'imap://a/INBOX/1/5', member: null, mailAuth });
    await database.reports.saveAggregate(header('from-file', 1_700_100_000, 1_700_186_399, { domain: 'news.example.com' }), batches([record(0)], 1), { input: '/r.xml', member: null });
    await database.reports.saveAggregate(header('foreign', 1_700_200_000, 1_700_286_399, { domain: 'notexample.com' }), batches([record(0)], 1), { input: '/f.xml', member: null });
  } finally {
    await database.close();
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export: mail_auth and policy_domain_configured', () => {
  it('report_metadata carries the mail verdict and the domain check against the configured domains', async () => {
    const reports = JSON.parse(await exportOf(['reports', '--config', config])) as { report_metadata: { report_id: string; mail_auth: unknown; policy_domain_configured: unknown } }[];
    expect(reports.map((r) => [r.report_metadata.report_id, r.report_metadata.policy_domain_configured])).toEqual([['by-mail', true], ['from-file', true], ['foreign', false]]);
    expect(reports[0]!.report_metadata.mail_auth).toEqual({ authserv_id: 'mx.mine.test', dkim: 'pass', dkim_domain: 'google.com', spf: 'pass', spf_domain: 'google.com', dmarc: 'pass', from_domain: 'google.com', authenticated: true });
    expect(reports[1]!.report_metadata.mail_auth).toBeNull();
  });

  it('without configured domains the check is null; CSV rows carry both columns', async () => {
    const reports = JSON.parse(await exportOf(['reports'])) as { report_metadata: { policy_domain_configured: unknown } }[];
    expect(reports.map((r) => r.report_metadata.policy_domain_configured)).toEqual([null, null, null]);
    const rows = parseCsv(await exportOf(['records', '--format', 'csv', '--config', config]), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.report_id, r.mail_authenticated, r.policy_domain_configured])).toEqual([
      ['by-mail', 'true', 'true'],
      ['from-file', '', 'true'],
      ['foreign', '', 'false'],
    ]);
  });
});
