/**
 * The DNS checks' view of the stored reports (issue 5): the DKIM selectors seen signing for a domain, and the
 * source IPs seen sending as it with their SPF outcome. Read from the rollups, bounded: selectors and IPs come
 * from reports (attacker-controlled), and each one costs DNS look-ups.
 */
import type { ReportedPolicySource, ReportSource, SelectorSource } from '../dns/check-types.ts';
import { reportedPolicyFrom } from '../dns/reported-policy.ts';
import { organizationalDomain } from '../domain/classify.ts';
import { parseIp } from '../enrich/ip-address.ts';
import { rollupDomain } from './analytics-rollup.ts';
import type { Driver } from './driver.ts';
import { keyText } from './report-keys.ts';

/** most selectors checked per domain: those that passed first, then by volume */
export const MAX_SELECTORS = 25;
/** most source IPs handed to the SPF coverage check, by volume */
export const MAX_REPORT_SOURCES = 200;

/** newest reports read for "p=none for long": a longer run of one policy is reported as this long */
export const MAX_POLICY_REPORTS = 5000;

const SELECTOR = /^(?=.{1,200}$)[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/;

export function createStoreSelectorSource(driver: Driver): Required<SelectorSource> & ReportedPolicySource {
  return {
    async reportedPolicyFor(domain) {
      // the domain's newest reports (index aggregate_reports_domain), each with the p= it was published with
      const rows = await driver.query(
        `SELECT policy_p AS p, period_begin AS b, period_end AS e FROM aggregate_reports
         WHERE key_domain = ? ORDER BY period_begin DESC LIMIT ${MAX_POLICY_REPORTS}`,
        [keyText(domain)],
      );
      return reportedPolicyFrom(rows.map((r) => ({ p: r.p === null ? null : String(r.p), begin: Number(r.b), end: Number(r.e) })));
    },
    async selectorsFor(domain) {
      // signatures of the domain in its own reports or in those of its organizational domain (primary-key prefix)
      const d = rollupDomain(domain);
      const org = organizationalDomain(d) ?? d;
      const rows = await driver.query(
        `SELECT selector, sum(CASE WHEN result = 'pass' THEN messages ELSE 0 END) AS passed, sum(messages) AS total
         FROM rollup_selectors WHERE domain IN (?, ?) AND dkim_domain = ? GROUP BY selector ORDER BY passed DESC, total DESC, selector LIMIT ${MAX_SELECTORS * 4}`,
        [d, org, d],
      );
      return rows.map((r) => String(r.selector)).filter((s) => SELECTOR.test(s)).slice(0, MAX_SELECTORS);
    },
    async reportSourcesFor(domain) {
      const rows = await driver.query(
        `SELECT s.source_ip AS ip, a.spf_aligned AS spf, sum(s.messages) AS total
         FROM rollup_sources s JOIN rollup_auth a ON a.domain = s.domain AND a.auth_key = s.auth_key
         WHERE s.domain = ? GROUP BY s.source_ip, a.spf_aligned ORDER BY total DESC, ip LIMIT ${MAX_REPORT_SOURCES * 2}`,
        [rollupDomain(domain)],
      );
      const out: ReportSource[] = [];
      const ips = new Set<string>();
      for (const r of rows) {
        const ip = parseIp(String(r.ip))?.text;
        if (!ip) continue;
        if (!ips.has(ip)) {
          if (ips.size >= MAX_REPORT_SOURCES) continue;
          ips.add(ip);
        }
        out.push({ ip, spfPassed: Number(r.spf) === 1 });
      }
      return out;
    },
  };
}
