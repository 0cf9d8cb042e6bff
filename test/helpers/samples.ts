import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SAMPLES_DIR = fileURLToPath(new URL('../../samples/', import.meta.url));

export interface ExpectedAggregate {
  file: string;
  member: string | null;
  org_name: string | null;
  report_id: string;
  begin: number;
  end: number;
  domain: string | null;
  p: string | null;
  records: number;
  messages: number;
  strict_xml: boolean;
}

export function expectedAggregates(): ExpectedAggregate[] {
  return readFileSync(SAMPLES_DIR + 'expected_aggregate.jsonl', 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ExpectedAggregate);
}

export function sampleFiles(kind: 'aggregate' | 'forensic' | 'smtp_tls'): string[] {
  return readdirSync(SAMPLES_DIR + kind).sort().map((f) => `${SAMPLES_DIR}${kind}/${f}`);
}
