import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCheckCommand, type CheckCommandDeps } from '../../server/commands/check.ts';
import type { DomainCheck } from '../../server/dns/check-types.ts';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy, ZONE } from '../fixtures/dns/zone.ts';

let dns: FakeDns;

beforeAll(async () => {
  dns = await startFakeDns(ZONE);
});
afterAll(async () => {
  await dns.stop();
});

interface Run {
  out: string;
  err: string;
  exitCode: number | null;
  /** set when commander ended the command (usage errors) */
  commanderExit: number | null;
}

async function run(args: string[], deps: Partial<CheckCommandDeps> = {}, opts: { tty?: boolean; env?: NodeJS.ProcessEnv; resolver?: boolean } = {}): Promise<Run> {
  const result: Run = { out: '', err: '', exitCode: null, commanderExit: null };
  const program = new Command('dmarc-lens')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (result.err += s), writeErr: (s) => void (result.err += s) });
  registerCheckCommand(program, {
    stdout: { write: (s: string) => void (result.out += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => void (result.err += s) },
    env: opts.env ?? {},
    setExitCode: (c) => void (result.exitCode = c),
    fetchPolicy: fakeFetchPolicy,
    now: () => new Date('2026-11-25T12:00:00Z'),
    ...deps,
  });
  const resolverArgs = opts.resolver === false ? [] : ['--resolver', dns.address];
  try {
    const timeoutArgs = args.includes('--timeout') ? [] : ['--timeout', '2000'];
    await program.parseAsync(['check', ...args, ...resolverArgs, ...timeoutArgs], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    result.commanderExit = e.exitCode;
  }
  return result;
}

describe('dmarc-lens check', () => {
  it('prints a plain report and exits 0 when nothing is an error', async () => {
    const r = await run(['good.test', '--selector', 's2048']);
    expect(r.exitCode).toBe(0);
    expect(r.out).toContain('good.test  checked 2026-11-25T12:00:00.000Z');
    expect(r.out).toMatch(/PASS {2}dmarc +_dmarc\.good\.test/);
    expect(r.out).toContain('s2048._domainkey.good.test');
    expect(r.out).toContain('0 errors, 0 warnings');
    expect(r.out).not.toContain('\x1b[');
  });

  it('exits 1 when any finding is an error, and shows the fix', async () => {
    const r = await run(['seed.test', '-s', 'mailchimp,old']);
    expect(r.exitCode).toBe(1);
    expect(r.out).toMatch(/FAIL {2}report-auth +seed\.test\._report\._dmarc\.vendor-missing\.test/);
    expect(r.out).toContain('fix: seed.test._report._dmarc.vendor-missing.test TXT "v=DMARC1"');
    expect(r.out).toContain('dkim-key-too-short');
  });

  it('uses colours only on a terminal, and never with NO_COLOR', async () => {
    const tty = await run(['good.test'], {}, { tty: true });
    expect(tty.out).toContain('\x1b[32mPASS');
    const noColor = await run(['good.test'], {}, { tty: true, env: { NO_COLOR: '1' } });
    expect(noColor.out).not.toContain('\x1b[');
    const emptyNoColor = await run(['good.test'], {}, { tty: true, env: { NO_COLOR: '' } });
    expect(emptyNoColor.out).toContain('\x1b[');
  });

  it('prints one JSON object for one domain and an array for several, in argument order', async () => {
    const one = await run(['good.test', '--json']);
    const parsed = JSON.parse(one.out) as DomainCheck;
    expect(parsed).toMatchObject({ domain: 'good.test', checked_at: '2026-11-25T12:00:00.000Z' });
    expect(parsed.records[0]).toMatchObject({ type: 'dmarc', name: '_dmarc.good.test', status: 'pass', findings: [] });
    const several = await run(['nullmx.test', 'good.test', 'passall.test', 'spf11.test', 'void.test', '--json']);
    const list = JSON.parse(several.out) as DomainCheck[];
    expect(list.map((c) => c.domain)).toEqual(['nullmx.test', 'good.test', 'passall.test', 'spf11.test', 'void.test']);
    expect(several.exitCode).toBe(1);
  });

  it('prints exactly the documented JSON shape and nothing more', async () => {
    const r = await run(['seed.test', 'spf11.test', 'servfail.test', 'sts-invalid.test', '-s', 'mailchimp,google', '--json']);
    const list = JSON.parse(r.out) as unknown[];
    expect(list).toHaveLength(4);
    const keys = (o: unknown) => Object.keys(o as object).sort();
    let findings = 0;
    for (const check of list as DomainCheck[]) {
      expect(keys(check)).toEqual(['checked_at', 'domain', 'records']);
      expect(check.checked_at).toBe('2026-11-25T12:00:00.000Z');
      for (const rec of check.records) {
        expect(keys(rec)).toEqual(['findings', 'name', 'status', 'type', 'value']);
        expect(['dmarc', 'spf', 'dkim', 'mx', 'mta-sts', 'tls-rpt', 'bimi', 'report-auth']).toContain(rec.type);
        expect(['pass', 'warn', 'fail']).toContain(rec.status);
        expect(rec.value === null || typeof rec.value === 'string').toBe(true);
        for (const f of rec.findings) {
          findings++;
          expect(['code', 'message', 'severity', ...(f.fix === undefined ? [] : ['fix'])].sort()).toEqual(keys(f));
          expect(['error', 'warning', 'info']).toContain(f.severity);
          expect(typeof f.message).toBe('string');
          if (f.fix !== undefined) expect(typeof f.fix).toBe('string');
        }
      }
    }
    expect(findings).toBeGreaterThan(20);
  });

  it('reads selectors, report sources and the reported policy through --db, records the history, and closes both', async () => {
    const calls: string[] = [];
    const saved: DomainCheck[] = [];
    const r = await run(['seed.test', '--db', 'sqlite:test.db', '--json', '-s', 'old'], {
      selectorSource: async (url) => {
        calls.push(`open ${url}`);
        return {
          selectorsFor: async (d) => (d === 'seed.test' ? ['mailchimp', 'old'] : []),
          reportSourcesFor: async () => [{ ip: '203.0.113.5', spfPassed: false }],
          reportedPolicyFor: async (d) => (d === 'seed.test' ? { p: 'none', since: '2026-06-01T00:00:00Z' } : null),
          close: async () => void calls.push('close source'),
        };
      },
      history: async () => ({ save: async (c) => void saved.push(c), close: async () => void calls.push('close history') }),
    });
    const check = JSON.parse(r.out) as DomainCheck;
    const dkim = check.records.filter((x) => x.type === 'dkim' && x.name.endsWith('._domainkey.seed.test') && !x.name.startsWith('_'));
    expect(dkim.map((x) => x.name)).toEqual(['old._domainkey.seed.test', 'mailchimp._domainkey.seed.test']);
    expect(check.records.find((x) => x.type === 'spf')?.findings.map((f) => f.code)).toContain('spf-sources-not-covered');
    const dmarc = check.records.find((x) => x.type === 'dmarc')!.findings.map((f) => f.code);
    expect(dmarc).toContain('dmarc-policy-none-long');
    expect(dmarc).not.toContain('dmarc-policy-none');
    expect(saved.map((c) => c.domain)).toEqual(['seed.test']);
    expect(calls).toEqual(['open sqlite:test.db', 'close source', 'close history']);
  });

  it('says so and goes on when --db cannot be used in this build', async () => {
    const r = await run(['good.test', '--db', 'sqlite:x.db']);
    expect(r.err).toContain('--db given, but reading selectors from the database is not available');
    expect(r.exitCode).toBe(0);
  });

  it('takes the resolver from DMARC_LENS_RESOLVER when --resolver is absent', async () => {
    const before = dns.queries.filter((q) => q.name === '_dmarc.nullmx.test').length;
    const r = await run(['nullmx.test'], {}, { resolver: false, env: { DMARC_LENS_RESOLVER: dns.address } });
    expect(r.out).toContain('nullmx.test');
    expect(dns.queries.filter((q) => q.name === '_dmarc.nullmx.test').length).toBeGreaterThan(before);
  });

  it('exits 2 on bad arguments without looking anything up', async () => {
    const queries = dns.queries.length;
    const bad = await run(['good.test', 'not a domain']);
    expect(bad.commanderExit).toBe(2);
    expect(bad.err).toContain('not a domain name: "not a domain"');
    expect((await run(['good.test'], {}, { resolver: false, env: { DMARC_LENS_RESOLVER: 'dns.example' } })).commanderExit).toBe(2);
    const timeout = await run(['good.test', '--timeout', 'soon']);
    expect(timeout.commanderExit).toBe(2);
    expect(dns.queries.length).toBe(queries);
  });
});
