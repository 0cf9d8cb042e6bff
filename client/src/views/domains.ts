/** Domains: the live DNS check of a domain — each record with its findings, severity and fix; re-check on demand. */
import { ApiError, getJson, postJson } from '../api.ts';
import { h, link } from '../dom.ts';
import { ago, num } from '../format.ts';
import { navigate, routeHref, withParams } from '../route.ts';
import { badge, card, code, emptyState, severityBadge, statusBadge } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';

interface Finding {
  severity: string;
  code: string;
  message: string;
  fix?: string;
}
interface RecordCheck {
  type: string;
  name: string;
  value: string | null;
  status: string;
  findings: Finding[];
}
interface CheckAnswer {
  now: number;
  cached: boolean;
  expiresAt: string;
  check: { domain: string; checked_at: string; records: RecordCheck[] };
}
interface DomainList {
  now: number;
  available: boolean;
  domains: { domain: string; reports: number; messages: number; lastCheck: { checkedAt: string; errors: number; warnings: number } | null }[];
}

export const domainsView: ViewDef = {
  title: 'Domains',
  filters: 'none',
  async render(ctx: ViewContext) {
    const list = await getJson<DomainList>('/api/dns');
    const chosen = ctx.params.get('domain') ?? list.domains[0]?.domain;
    const form = h(
      'form',
      { class: 'inline-search', on: { submit: (e) => { e.preventDefault(); const v = (e.target as HTMLFormElement).querySelector('input')!.value.trim(); if (v) navigate(withParams({ domain: v })); } } },
      h('label', { attrs: { for: 'check-domain' } }, 'Check a domain '),
      h('input', { attrs: { id: 'check-domain', type: 'text', placeholder: 'example.com', value: chosen ?? '', autocomplete: 'off' } }),
      h('button', { class: 'button small', attrs: { type: 'submit' } }, 'Check'),
    );
    const side = h(
      'nav',
      { class: 'domain-list', attrs: { 'aria-label': 'domains seen in reports' } },
      list.domains.length === 0 ? h('p', { class: 'note' }, 'No domains in the reports yet — type one above.') : null,
      h('ul', null, list.domains.slice(0, 200).map((d) => h('li', { class: d.domain === chosen ? 'current' : undefined },
        link(routeHref('domains', { domain: d.domain }), d.domain, { attrs: { 'aria-current': d.domain === chosen ? 'page' : null } }),
        h('span', { class: 'small muted' }, ` ${num(d.messages)} msgs`),
        d.lastCheck ? h('span', { class: 'small' }, ' ', d.lastCheck.errors > 0 ? badge('bad', `${d.lastCheck.errors} error(s)`, '✗') : d.lastCheck.warnings > 0 ? badge('warn', `${d.lastCheck.warnings} warning(s)`, '!') : badge('good', 'ok', '✓')) : null,
      ))),
    );
    if (!list.available) return h('div', { class: 'domains-layout' }, side, emptyState('DNS checks are not available on this server.', 'Start it with dmarc-lens serve to check the DMARC, SPF, DKIM, MX, MTA-STS and TLS-RPT records of these domains.'));
    if (!chosen) return [form, side];
    let answer: CheckAnswer;
    try {
      answer = await getJson<CheckAnswer>(`/api/dns/${encodeURIComponent(chosen)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) return [form, h('div', { class: 'error-box', attrs: { role: 'alert' } }, err.message), side];
      throw err;
    }
    return [form, h('div', { class: 'domains-layout' }, side, checkPanel(answer))];
  },
};

function checkPanel(a: CheckAnswer): HTMLElement {
  const checkedAt = Math.floor(Date.parse(a.check.checked_at) / 1000);
  const findings = a.check.records.flatMap((r) => r.findings);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const recheck = h('button', { class: 'button', attrs: { type: 'button', id: 'recheck' } }, '↻ Re-check now');
  recheck.addEventListener('click', async () => {
    recheck.disabled = true;
    recheck.textContent = 'Checking…';
    try {
      await postJson(`/api/dns/${encodeURIComponent(a.check.domain)}/check`);
      navigate(withParams({}));
    } catch (err) {
      recheck.disabled = false;
      recheck.textContent = `Failed: ${(err as Error).message}`;
    }
  });
  const summary = h(
    'div',
    { class: 'check-summary' },
    h('p', null, h('strong', { class: 'big' }, a.check.domain), ' ', errors > 0 ? badge('bad', `${errors} error(s)`, '✗') : null, ' ', warnings > 0 ? badge('warn', `${warnings} warning(s)`, '!') : null, errors + warnings === 0 ? badge('good', 'no problems found', '✓') : null),
    h('p', { class: 'muted', attrs: { id: 'checked-ago' } }, `checked ${ago(Math.max(0, a.now - checkedAt))}`, a.cached ? ' (cached answer)' : ''),
    recheck,
  );
  return h(
    'div',
    { class: 'check-panel', attrs: { id: 'check-panel' } },
    summary,
    a.check.records.map((r) =>
      card(
        `${r.type.toUpperCase()}`,
        h(
          'div',
          { class: 'record' },
          h('p', null, statusBadge(r.status), ' ', h('span', { class: 'mono' }, r.name)),
          r.value !== null ? h('pre', { class: 'record-value' }, r.value) : h('p', { class: 'muted' }, 'not published'),
          r.findings.length > 0
            ? h('ul', { class: 'findings' }, r.findings.map((f) => h('li', { class: `finding ${f.severity}` }, severityBadge(f.severity), ' ', f.message, f.fix ? h('div', { class: 'fix' }, h('span', { class: 'fix-label' }, 'Fix: '), code(f.fix)) : null)))
            : null,
        ),
      ),
    ),
  );
}
