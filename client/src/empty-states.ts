/** What an empty view says: what is missing and what to do about it. */
import { h, link, type Child } from './dom.ts';
import { code, emptyState } from './table.ts';

export function noAggregateReports(): HTMLElement {
  return emptyState(
    'No DMARC aggregate reports yet.',
    ['Point the ', code('rua'), ' tag of your DMARC record at a mailbox this server polls, for example:'],
    code('_dmarc.example.com. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"'),
    ['Then set ', code('DMARC_LENS_IMAP_HOST'), ', ', code('DMARC_LENS_IMAP_USER'), ' and ', code('DMARC_LENS_IMAP_PASSWORD'), ' and restart ', code('dmarc-lens serve'), ' — or load report files now with ', code('dmarc-lens ingest PATH…'), '. Receivers send reports once a day.'],
  );
}

export function nothingMatches(clearHref: string): HTMLElement {
  return emptyState('Nothing matches these filters.', ['Widen the date range or ', link(clearHref, 'clear the filters'), '.']);
}

export function noFailureReports(): HTMLElement {
  return emptyState(
    'No failure reports.',
    ['Receivers send failure reports (ruf) only when your DMARC record asks for them with ', code('ruf=mailto:…'), ' — and most large mailbox providers never send any. An empty list is normal.'],
  );
}

export function noTlsReports(): HTMLElement {
  return emptyState(
    'No SMTP TLS reports yet.',
    ['Ask sending servers to report TLS problems with your mail servers by publishing:'],
    code('_smtp._tls.example.com. TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.com"'),
    'and have this server poll that mailbox.',
  );
}

export function emptyQuarantine(): HTMLElement {
  return emptyState('Nothing in quarantine.', 'Every input so far could be read. Inputs that cannot be (broken archives, not a report, too large) are kept here with the reason, so nothing is lost.');
}

export function analyticsMissing(): HTMLElement {
  return emptyState('This view needs the analytics module, which is not available in this build.');
}

export function errorBox(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  return h('div', { class: 'error-box', attrs: { role: 'alert' } }, h('strong', null, 'Could not load this view: '), message);
}

export function loading(): Child {
  return h('p', { class: 'loading', attrs: { 'aria-live': 'polite' } }, 'Loading…');
}
