/**
 * The newest DNS check of each domain this server ran, kept in memory: the Domains view shows "checked N min
 * ago", and the DKIM selector table shows each selector's key status from it without asking DNS again.
 */
import type { DomainCheck, RecordStatus } from '../dns/check-types.ts';

const MAX_DOMAINS = 5000;

export interface CheckSummary {
  domain: string;
  checkedAt: string;
  errors: number;
  warnings: number;
}

export class DnsCheckLog {
  private readonly checks = new Map<string, DomainCheck>();

  remember(check: DomainCheck): void {
    this.checks.delete(check.domain);
    this.checks.set(check.domain, check);
    if (this.checks.size > MAX_DOMAINS) this.checks.delete(this.checks.keys().next().value!);
  }

  latest(domain: string): DomainCheck | null {
    return this.checks.get(domain.toLowerCase()) ?? null;
  }

  summary(domain: string): CheckSummary | null {
    const c = this.latest(domain);
    if (!c) return null;
    const findings = c.records.flatMap((r) => r.findings);
    return {
      domain: c.domain,
      checkedAt: c.checked_at,
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
    };
  }

  /** the DKIM key status of `selector._domainkey.signingDomain` from the newest check of signingDomain */
  keyStatus(signingDomain: string, selector: string): { status: RecordStatus | 'not checked'; detail: string | null } {
    const check = this.latest(signingDomain);
    const name = `${selector}._domainkey.${signingDomain}`.toLowerCase();
    const record = check?.records.find((r) => r.type === 'dkim' && r.name.toLowerCase() === name);
    if (!record) return { status: 'not checked', detail: null };
    const worst = record.findings.find((f) => f.severity === 'error') ?? record.findings.find((f) => f.severity === 'warning');
    return { status: record.status, detail: worst?.message ?? null };
  }
}
