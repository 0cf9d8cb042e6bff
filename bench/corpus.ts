/** Deterministic synthetic corpora for the ingest benchmark (seeded; the same bytes every run). */
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync, strToU8 } from 'fflate';
import { generateAggregateXml, generateAggregateXmlChunks } from './synthetic-aggregate.ts';

const DAY = 86400;
const BASE = 1_700_006_400; // 2023-11-15T00:00:00Z

/** (a) `reports` reports × `records` records, a third each as .xml, .xml.gz and .zip. */
export function buildMixedCorpus(dir: string, reports = 1000, records = 50): string {
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const orgs = ['google.com', 'Outlook.com', 'Yahoo', 'Mail.Ru', 'Fastmail Pty Ltd'];
  for (let i = 0; i < reports; i++) {
    const org = orgs[i % orgs.length]!;
    const domain = `example${i % 7}.com`;
    const begin = BASE + (i % 30) * DAY;
    const xml = generateAggregateXml({ seed: i + 1, records, orgName: org, domain, reportId: `bench-${i}`, begin });
    const name = `${org.replace(/\W/g, '')}!${domain}!${begin}!${begin + DAY - 1}!${i}`;
    switch (i % 3) {
      case 0:
        writeFileSync(join(dir, `${name}.xml`), xml);
        break;
      case 1:
        writeFileSync(join(dir, `${name}.xml.gz`), gzipSync(xml));
        break;
      default:
        writeFileSync(join(dir, `${name}.zip`), zipSync({ [`${name}.xml`]: strToU8(xml) }));
    }
  }
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}

/** (b) one report with `records` records as one .xml file, written as a stream. */
export async function buildLargeCorpus(dir: string, records = 200_000): Promise<string> {
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, `google.com!example.com!${BASE}!${BASE + DAY - 1}.xml`));
  for (const chunk of generateAggregateXmlChunks({ seed: 42, records, orgName: 'google.com', domain: 'example.com', reportId: 'bench-large', begin: BASE })) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}
