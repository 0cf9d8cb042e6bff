/**
 * Every real sample through unpack(): the members that come out must be the ones expected_aggregate.jsonl names,
 * each holding its report; the files with no expected report must come out rejected.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import type { InputSource } from '../../server/ingest/unpack-types.ts';
import { expectedAggregates, sampleFiles } from '../helpers/samples.ts';
import { collectLeaves, type Leaf } from './unpack-fixtures.ts';

function fileInput(path: string): InputSource {
  return { name: path, open: () => createReadStream(path, { highWaterMark: 1024 }) };
}

const expected = expectedAggregates();
const aggregateFiles = sampleFiles('aggregate');

/** Aggregate samples that hold no recoverable report: how unpack must refuse them. */
const REFUSED: Record<string, { member: string | null; code: string; detail: RegExp }> = {
  'parsedmarc__empty.xml': { member: null, code: 'empty', detail: /nothing/ },
  'dmarc-report-milter__garbage_string.xml': { member: null, code: 'not-a-report', detail: /^text that is not XML, JSON or mail$/ },
  'dmarc-report-milter__report-with-unreadable-zip.eml': {
    member: null,
    code: 'not-a-report',
    detail: /^mail has no report attachment \(parts: application\/zip google\.com!example\.net!1728777600!1728863999\.zip: binary data\)$/,
  },
  'modoboa-dmarc__Report_Domain_ngyn.org_Submitter_amazon.com_Report-ID_aggr_report_ngyn.org_20210607-ignored.eml': {
    member: null,
    code: 'not-a-report',
    detail: /^mail has no report attachment \(parts: text\/plain; application\/octet-stream amazonses\.com!ngyn\.org!1622937600!1623024000\.xml\.gz: PNG image\)$/,
  },
};

describe('unpack: aggregate samples', () => {
  it('knows every aggregate sample (an expected report, or a refusal)', () => {
    for (const path of aggregateFiles) {
      const name = basename(path);
      const known = expected.some((e) => e.file === name) || name in REFUSED || name === 'parsedmarc__invalid_xml.xml';
      expect(known, name).toBe(true);
    }
  });

  for (const path of aggregateFiles) {
    const name = basename(path);
    const reports = expected.filter((e) => e.file === name);
    if (reports.length > 0) {
      it(`${name}: ${reports.map((r) => r.member ?? '(bare)').join(', ')}`, async () => {
        const leaves = await collectLeaves(fileInput(path), DEFAULT_LIMITS);
        expect(leaves.map((l) => [l.kind, l.member])).toEqual(reports.map((r) => ['xml', r.member]));
        reports.forEach((report, i) => {
          const leaf = leaves[i] as Leaf;
          expect(leaf.error).toBeUndefined();
          expect(leaf.text).toContain(report.report_id);
          expect((leaf.text!.match(/<record[\s>]/g) ?? []).length).toBe(report.records);
        });
      });
    }
  }

  for (const [name, refusal] of Object.entries(REFUSED)) {
    it(`${name}: refused as ${refusal.code}`, async () => {
      const leaves = await collectLeaves(fileInput(`${aggregateFiles[0]!.replace(/[^/]*$/, '')}${name}`), DEFAULT_LIMITS);
      expect(leaves).toHaveLength(1);
      expect(leaves[0]).toMatchObject({ kind: 'rejected', member: refusal.member, code: refusal.code });
      expect(leaves[0]!.detail).toMatch(refusal.detail);
    });
  }

  it('passes not-well-formed XML on unchanged (judging XML is the parser’s job)', async () => {
    const path = aggregateFiles.find((p) => p.endsWith('parsedmarc__invalid_xml.xml'))!;
    const leaves = await collectLeaves(fileInput(path), DEFAULT_LIMITS);
    expect(leaves).toEqual([{ kind: 'xml', member: null, text: readFileSync(path, 'utf8') }]);
  });

  it('gives bare and compressed copies of one report the same bytes', async () => {
    const dir = aggregateFiles[0]!.replace(/[^/]*$/, '');
    const bare = readFileSync(`${dir}parsedmarc__nice-input.xml`, 'utf8');
    for (const packed of ['parsedmarc__nice-input.xml.gz', 'parsedmarc__nice-input.xml.zip']) {
      const leaves = await collectLeaves(fileInput(dir + packed), DEFAULT_LIMITS);
      expect(leaves.map((l) => l.text)).toEqual([bare]);
    }
    const aol = readFileSync(`${dir}dmarcgo__aol.com!georgestarcher.com!1342497600!1342584000.zip`);
    const zlibLeaves = await collectLeaves(fileInput(`${dir}dmarcgo__aol.com!georgestarcher.com!1342497600!1342584000.zlib`), DEFAULT_LIMITS);
    const zipLeaves = await collectLeaves({ name: 'aol.zip', open: async function* () { yield aol; } }, DEFAULT_LIMITS);
    expect(zlibLeaves[0]!.text).toBe(zipLeaves[0]!.text);
  });
});

describe('unpack: forensic samples', () => {
  for (const path of sampleFiles('forensic')) {
    const name = basename(path);
    it(`${name}: one failure report`, async () => {
      const leaves = await collectLeaves(fileInput(path), DEFAULT_LIMITS);
      expect(leaves).toHaveLength(1);
      expect(leaves[0]!.kind).toBe('failure');
      // a mail behind an mbox `From ` line is the first mail of an mbox
      const mboxPrefixed = readFileSync(path).subarray(0, 5).toString('latin1') === 'From ';
      expect(leaves[0]!.member).toBe(mboxPrefixed ? 'mbox#1' : null);
    });
  }
});

describe('unpack: SMTP TLS samples', () => {
  for (const path of sampleFiles('smtp_tls')) {
    const name = basename(path);
    it(`${name}: one JSON report`, async () => {
      const leaves = await collectLeaves(fileInput(path), DEFAULT_LIMITS);
      expect(leaves).toHaveLength(1);
      const leaf = leaves[0]!;
      expect(leaf.kind).toBe('json');
      expect(leaf.error).toBeUndefined();
      if (name.endsWith('.json')) expect(leaf.member).toBeNull();
      else expect(leaf.member).toMatch(/^\[application\/tlsrpt\+gzip;[^\]]+\.json\.gz\]>gunzip$/);
      expect(() => JSON.parse(leaf.text!)).not.toThrow();
      expect(JSON.parse(leaf.text!)).toHaveProperty('policies');
    });
  }
});
