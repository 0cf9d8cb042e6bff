/**
 * Prometheus text exposition for /metrics, written by hand (a histogram and counters are all we need).
 * Store figures (reports stored, quarantined) are read at scrape time; request latency and poll events are
 * observed as they happen.
 */
import type { StoreCounts } from '../store/report-store.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export interface Metrics {
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** one IMAP message handled by the in-process poller */
  countPollMessage(outcome: string): void;
  /** a poll failure: a store error on a message, or an account that could not be served */
  countPollError(kind: string): void;
  render(counts: StoreCounts | null): string;
}

export function createMetrics(): Metrics {
  const requests = new Map<string, Histogram>();
  const pollMessages = new Map<string, number>();
  const pollErrors = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  return {
    observeRequest(route, method, status, seconds) {
      const key = labels({ route, method, status: `${Math.floor(status / 100)}xx` });
      let h = requests.get(key);
      if (!h) requests.set(key, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      BUCKETS.forEach((le, i) => {
        if (seconds <= le) h.buckets[i]!++;
      });
      h.sum += seconds;
      h.count++;
    },
    countPollMessage: (outcome) => void bump(pollMessages, outcome),
    countPollError: (kind) => void bump(pollErrors, kind),
    render(counts) {
      const out: string[] = [];
      out.push('# HELP dmarc_lens_up 1 when the database answered this scrape.', '# TYPE dmarc_lens_up gauge', `dmarc_lens_up ${counts ? 1 : 0}`);
      if (counts) {
        out.push('# HELP dmarc_lens_reports_stored Reports in the database, by type.', '# TYPE dmarc_lens_reports_stored gauge');
        for (const type of ['aggregate', 'failure', 'tls'] as const) out.push(`dmarc_lens_reports_stored{type="${type}"} ${counts[type]}`);
        out.push('# HELP dmarc_lens_records_stored Aggregate report records in the database.', '# TYPE dmarc_lens_records_stored gauge', `dmarc_lens_records_stored ${counts.records}`);
        out.push('# HELP dmarc_lens_quarantined Rejected inputs kept in quarantine.', '# TYPE dmarc_lens_quarantined gauge', `dmarc_lens_quarantined ${counts.quarantine}`);
      }
      out.push('# HELP dmarc_lens_poll_messages_total Report mails handled by the in-process IMAP poller, by outcome.', '# TYPE dmarc_lens_poll_messages_total counter');
      for (const [k, v] of pollMessages) out.push(`dmarc_lens_poll_messages_total${labels({ outcome: k })} ${v}`);
      out.push('# HELP dmarc_lens_poll_errors_total Poller failures (store errors, accounts that could not be served).', '# TYPE dmarc_lens_poll_errors_total counter');
      if (pollErrors.size === 0) out.push('dmarc_lens_poll_errors_total{kind="store"} 0');
      for (const [k, v] of pollErrors) out.push(`dmarc_lens_poll_errors_total${labels({ kind: k })} ${v}`);
      out.push('# HELP dmarc_lens_http_request_duration_seconds HTTP request latency by route.', '# TYPE dmarc_lens_http_request_duration_seconds histogram');
      for (const [key, h] of requests) {
        const inner = key.slice(1, -1);
        BUCKETS.forEach((le, i) => out.push(`dmarc_lens_http_request_duration_seconds_bucket{${inner},le="${le}"} ${h.buckets[i]}`));
        out.push(`dmarc_lens_http_request_duration_seconds_bucket{${inner},le="+Inf"} ${h.count}`);
        out.push(`dmarc_lens_http_request_duration_seconds_sum{${inner}} ${h.sum.toFixed(6)}`);
        out.push(`dmarc_lens_http_request_duration_seconds_count{${inner}} ${h.count}`);
      }
      return out.join('\n') + '\n';
    },
  };
}

function labels(values: Record<string, string>): string {
  const body = Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
  return `{${body}}`;
}
