/** The small pieces the API is built from: input schemas, cookies, CSV file names and the rebuilt XML. */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { StoredAggregate } from '../../server/store/report-store.ts';
import { cookieHeader, readCookies } from '../../server/http/cookies.ts';
import { HttpError } from '../../server/http/http-error.ts';
import { aggregateReportXml } from '../../server/http/report-xml.ts';
import { day, domainName, flag, integer, oneOf, parseInput, text } from '../../server/http/request-schema.ts';
import { csvFileName } from '../../server/http/table-response.ts';
import { isLoopbackHost, hostnameOf } from '../../server/http/auth/host-guard.ts';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return (err as HttpError).message;
  }
  throw new Error('no error thrown');
}

describe('request schemas', () => {
  const schema = { d: day(), e: day({ end: true }), n: integer({ min: 1, max: 10 }), o: oneOf(['a', 'b'] as const), f: flag(), t: text({ max: 5 }), dom: domainName() };

  it('parses valid input into typed values', () => {
    expect(parseInput(schema, { d: '2024-02-29', e: '2024-02-29', n: '10', o: 'b', f: 'true', t: 'abc', dom: 'Example.COM.' })).toEqual({
      d: Date.UTC(2024, 1, 29) / 1000,
      e: Date.UTC(2024, 1, 29) / 1000 + 86399,
      n: 10,
      o: 'b',
      f: true,
      t: 'abc',
      dom: 'example.com',
    });
    expect(parseInput(schema, { d: '' })).toEqual({});
  });

  it('refuses bad values, repeated and unknown parameters, naming each', () => {
    expect(problem(() => parseInput(schema, { d: '2023-02-29' }))).toMatch(/"d" must be a date/);
    expect(problem(() => parseInput(schema, { n: '1.5' }))).toMatch(/whole number/);
    expect(problem(() => parseInput(schema, { n: '11' }))).toMatch(/at most 10/);
    expect(problem(() => parseInput(schema, { o: 'c' }))).toMatch(/one of a, b/);
    expect(problem(() => parseInput(schema, { f: 'maybe' }))).toMatch(/true or false/);
    expect(problem(() => parseInput(schema, { t: 'toolong' }))).toMatch(/longer than 5/);
    expect(problem(() => parseInput(schema, { t: ['a', 'b'] }))).toMatch(/more than once/);
    expect(problem(() => parseInput(schema, { dom: 'a b' }))).toMatch(/not a domain/);
    const all = problem(() => parseInput(schema, { d: 'x', n: 'y', zzz: '1' }));
    expect(all).toMatch(/"d"/);
    expect(all).toMatch(/"n"/);
    expect(all).toMatch(/unknown parameter "zzz"/);
    expect(problem(() => parseInput(schema, null))).toMatch(/expected an object/);
  });
});

describe('cookies and hosts', () => {
  it('reads cookies and writes HttpOnly SameSite=Strict ones, Secure on request', () => {
    expect([...readCookies('a=1; b="two"; a=3; c=%20x')]).toEqual([['a', '1'], ['b', 'two'], ['c', ' x']]);
    expect(cookieHeader('s', 'v', { secure: false })).toBe('s=v; Path=/; SameSite=Strict; HttpOnly');
    expect(cookieHeader('s', '', { secure: true, maxAge: 0 })).toBe('s=; Path=/; SameSite=Strict; HttpOnly; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  });

  it('tells loopback host names from others', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', 'app.localhost']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['example.com', '127.0.0.1.evil.test', '0.0.0.0', '10.0.0.1', 'localhost.evil.test']) expect(isLoopbackHost(h)).toBe(false);
    expect(hostnameOf('[::1]:8080')).toBe('::1');
    expect(hostnameOf('localhost:8080')).toBe('localhost');
  });

  it('makes CSV file names safe for a header', () => {
    expect(csvFileName('reports', { domain: 'ex"am\r\nple.com', from: 1704067200 })).toBe('dmarc-lens-reports-ex_am_ple.com-2024-01-01_now.csv');
  });
});

describe('rebuilt report XML', () => {
  it('escapes every value, so report text stays text', () => {
    const evil = `<script>alert(1)</script>&"'`;
    const report: StoredAggregate = {
      id: 7,
      origin: { input: 'x--y.xml', member: null },
      receivedAt: 0,
      header: {
        xmlSchema: '1.0', orgName: evil, orgEmail: null, orgExtraContactInfo: null, reportId: 'r<1>', begin: 1, end: 2, errors: ['e & f'], generator: null,
        policy: { domain: 'a.test', adkim: null, aspf: null, p: 'none', sp: null, np: null, pct: 100, fo: null, testing: null, discoveryMethod: null },
      },
      records: [{
        ordinal: 0, sourceIp: '192.0.2.1', count: 3, disposition: 'none', dkimEval: 'pass', spfEval: 'fail', overrideReasons: [{ type: 'forwarded', comment: evil }],
        headerFrom: evil, envelopeFrom: null, envelopeTo: null, dkim: [{ domain: 'a.test', selector: evil, result: 'pass', humanResult: null }], spf: [], problems: [],
      }],
    };
    const xml = aggregateReportXml(report);
    expect(xml).not.toContain('<script>');
    const doc = new XMLParser({ parseTagValue: false, isArray: (n) => ['record', 'dkim', 'reason'].includes(n) }).parse(xml);
    expect(doc.feedback.report_metadata.org_name).toBe(evil);
    expect(doc.feedback.record[0].auth_results.dkim[0].selector).toBe(evil);
    expect(doc.feedback.record[0].row.policy_evaluated.reason[0].comment).toBe(evil);
    expect(xml).toContain('<!-- reconstructed by dmarc-lens from the stored report 7; the original file (x- -y.xml) is not kept -->');
  });
});
