/**
 * IMAP end to end: report mails APPENDed into a private Dovecot, then `dmarc-lens poll --once` in a child
 * process (so its peak RSS is its own) into a fresh SQLite database. Measures the child's wall time (start-up
 * included) and peak RSS, and checks that every mail was archived and every report stored.
 *
 *   node --import tsx bench/imap.ts [messages]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { openStore } from '../server/store/open-store.ts';
import { appendMails, folderCounts, startDovecot } from '../test/helpers/dovecot.ts';
import { reportMail } from '../test/helpers/mail-fixtures.ts';

export interface ImapBenchResult {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  peakRssMb: number;
}

export interface ImapBenchOptions {
  messages?: number;
  /** records per report (default 20) */
  records?: number;
  /** let Dovecot fsync like a production server (default false: the disk then dominates every MOVE) */
  fsync?: boolean;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** prints the process's peak RSS on exit; loaded into the child with --import */
const RSS_PROBE = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nBENCH_MAXRSS_KB '+process.resourceUsage().maxRSS+'\\n'))`;

export async function runImapBench(opts: ImapBenchOptions = {}): Promise<ImapBenchResult> {
  const messages = opts.messages ?? 2000;
  const records = opts.records ?? 20;
  const dovecot = await startDovecot({ fsync: opts.fsync ?? false });
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-bench-imap-'));
  try {
    const mails: Buffer[] = [];
    for (let i = 0; i < messages; i++) {
      const id = `bench-${i}`;
      mails.push(await reportMail(gzipSync(benchReport(id, records)), `reporter.test!example.com!1700000000!1700086399!${id}.xml.gz`, { seq: i }));
    }
    await appendMails(dovecot, 'INBOX', mails);

    const db = `sqlite:${join(dir, 'bench.db')}`;
    const env = {
      ...process.env,
      DMARC_LENS_DB: db,
      DMARC_LENS_IMAP_HOST: dovecot.host,
      DMARC_LENS_IMAP_PORT: String(dovecot.tlsPort),
      DMARC_LENS_IMAP_TLS: 'true',
      DMARC_LENS_IMAP_TLS_VERIFY: 'false',
      DMARC_LENS_IMAP_USER: dovecot.user,
      DMARC_LENS_IMAP_PASSWORD: dovecot.pass,
    };
    const started = process.hrtime.bigint();
    const run = await runChild([...pollCommand(), '--once'], env);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.code !== 0) throw new Error(`poll exited with ${run.code}: ${run.stderr}`);
    const rssKb = Number(/BENCH_MAXRSS_KB (\d+)/.exec(run.stderr)?.[1] ?? NaN);

    const counts = await folderCounts(dovecot, ['INBOX', 'Archive']);
    const store = await openStore(db);
    const stored = await store.counts();
    await store.close();
    if (counts.INBOX !== 0 || counts.Archive !== messages || stored.aggregate !== messages || stored.records !== messages * records) {
      throw new Error(`incomplete run: ${JSON.stringify({ counts, stored })}`);
    }
    return { messages, seconds, messagesPerSecond: messages / seconds, peakRssMb: rssKb / 1024 };
  } finally {
    await dovecot.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** the real command, with the peak-RSS probe */
function pollCommand(): string[] {
  return ['--import', RSS_PROBE, 'bin/dmarc-lens.js', 'poll'];
}

function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

function benchReport(id: string, records: number): Buffer {
  const rows: string[] = [];
  for (let r = 0; r < records; r++) {
    rows.push(`<record><row><source_ip>198.51.100.${r % 250}</source_ip><count>${1 + (r % 7)}</count>
<policy_evaluated><disposition>none</disposition><dkim>${r % 3 ? 'pass' : 'fail'}</dkim><spf>pass</spf></policy_evaluated></row>
<identifiers><header_from>example.com</header_from></identifiers>
<auth_results><dkim><domain>example.com</domain><selector>s${r % 4}</selector><result>${r % 3 ? 'pass' : 'fail'}</result></dkim>
<spf><domain>example.com</domain><scope>mfrom</scope><result>pass</result></spf></auth_results></record>`);
  }
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<feedback><version>1.0</version>
<report_metadata><org_name>reporter.test</org_name><email>dmarc@reporter.test</email><report_id>${id}</report_id>
<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>
<policy_published><domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>
${rows.join('\n')}
</feedback>
`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await runImapBench({ messages, fsync: process.env.BENCH_FSYNC === '1' });
  console.log(JSON.stringify(result));
}
