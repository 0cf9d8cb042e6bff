/**
 * The dmarc-lens web client: a frame (navigation, filters, user) and one view per hash route.
 * `body[data-ready="1"]` is set once a view is fully drawn (charts included), `data-view` names it.
 */
import { getJson, postJson, setCsrfToken, whenLoginRequired } from './api.ts';
import { destroyCharts, drawPendingCharts } from './charts.ts';
import { append, clear, h, link } from './dom.ts';
import { errorBox, loading } from './empty-states.ts';
import { loginForm } from './login.ts';
import { currentRoute, navigate, routeHref, withParams } from './route.ts';
import type { Meta, Session, ViewContext, ViewDef } from './view-types.ts';
import { domainsView } from './views/domains.ts';
import { failureDetailView, failuresView } from './views/failures.ts';
import { overviewView } from './views/overview.ts';
import { quarantineView } from './views/quarantine.ts';
import { reportDetailView } from './views/report-detail.ts';
import { reportsView } from './views/reports.ts';
import { selectorsView } from './views/selectors.ts';
import { sourcesView } from './views/sources.ts';
import { tlsDetailView, tlsView } from './views/tls.ts';

const VIEWS: Record<string, ViewDef> = {
  overview: overviewView,
  sources: sourcesView,
  selectors: selectorsView,
  domains: domainsView,
  reports: reportsView,
  report: reportDetailView,
  failures: failuresView,
  failure: failureDetailView,
  tls: tlsView,
  'tls-report': tlsDetailView,
  quarantine: quarantineView,
};

const NAV: [string, string][] = [
  ['overview', 'Overview'],
  ['sources', 'Sources'],
  ['selectors', 'DKIM selectors'],
  ['domains', 'Domains'],
  ['reports', 'Reports'],
  ['failures', 'Failure reports'],
  ['tls', 'TLS reports'],
  ['quarantine', 'Quarantine'],
];

/** detail views light up their list in the navigation */
const PARENT: Record<string, string> = { report: 'reports', failure: 'failures', 'tls-report': 'tls' };

const root = document.getElementById('app')!;
let session: Session | null = null;
let meta: Meta | null = null;
let renderSeq = 0;

async function boot(): Promise<void> {
  whenLoginRequired(() => void showLogin());
  session = await getJson<Session>('/api/session');
  setCsrfToken(session.csrfToken);
  if (session.loginRequired && !session.authenticated) return showLogin();
  await startApp();
}

async function showLogin(): Promise<void> {
  renderSeq++;
  destroyCharts();
  session = await getJson<Session>('/api/session');
  setCsrfToken(session.csrfToken);
  clear(root);
  document.body.dataset.view = 'login';
  root.appendChild(h('main', { class: 'login-page' }, loginForm((s) => {
    session = s;
    void startApp();
  })));
  document.body.dataset.ready = '1';
  document.getElementById('login-user')?.focus();
}

async function startApp(): Promise<void> {
  meta = await getJson<Meta>('/api/meta');
  await render();
}

async function logout(): Promise<void> {
  await postJson('/api/logout');
  session = await getJson<Session>('/api/session');
  setCsrfToken(session.csrfToken);
  if (session.loginRequired) await showLogin();
  else await render();
}

function frame(viewName: string, def: ViewDef, body: HTMLElement): HTMLElement {
  const active = PARENT[viewName] ?? viewName;
  const nav = h(
    'nav',
    { class: 'sidebar', attrs: { 'aria-label': 'views' } },
    h('ul', null, NAV.map(([name, label]) => h('li', null, link(routeHref(name, keepFilters(name)), label, { class: name === active ? 'active' : undefined, attrs: { 'aria-current': name === active ? 'page' : null } })))),
  );
  const user = session?.user
    ? h('div', { class: 'user' }, h('span', { class: 'muted' }, session.user), h('button', { class: 'button small', attrs: { type: 'button', id: 'logout' }, on: { click: () => void logout() } }, 'Log out'))
    : h('div', { class: 'user muted small' }, session?.loginRequired ? '' : 'local access');
  const top = h('header', { class: 'topbar' }, link(routeHref('overview'), h('span', null, h('span', { class: 'logo', attrs: { 'aria-hidden': 'true' } }, '◉'), ' dmarc-lens'), { class: 'brand' }), user);
  return h('div', { class: 'shell' }, top, nav, h('main', { class: 'content', attrs: { id: 'main' } }, h('div', { class: 'view-head' }, h('h2', null, def.title), filterBar(def)), body));
}

/** the domain / date filters carry over when switching views */
function keepFilters(view: string): Record<string, string | undefined> {
  const p = currentRoute().params;
  const keep: Record<string, string | undefined> = { from: p.get('from') ?? undefined, to: p.get('to') ?? undefined };
  if (view !== 'quarantine') keep.domain = p.get('domain') ?? undefined;
  return keep;
}

function filterBar(def: ViewDef): HTMLElement | null {
  if (def.filters === 'none' || !meta) return null;
  const p = currentRoute().params;
  const domain = h(
    'select',
    { attrs: { id: 'filter-domain', name: 'domain' } },
    h('option', { attrs: { value: '' } }, 'All domains'),
    meta.domains.map((d) => h('option', { attrs: { value: d.domain, selected: d.domain === p.get('domain') } }, d.domain)),
    // a domain set by a drill-down that has no aggregate reports (a TLS policy domain) is still shown as chosen
    p.get('domain') && !meta.domains.some((d) => d.domain === p.get('domain')) ? h('option', { attrs: { value: p.get('domain')!, selected: true } }, p.get('domain')!) : null,
  );
  const from = h('input', { attrs: { id: 'filter-from', type: 'date', name: 'from', value: p.get('from') ?? '' } });
  const to = h('input', { attrs: { id: 'filter-to', type: 'date', name: 'to', value: p.get('to') ?? '' } });
  const form = h(
    'form',
    { class: 'filters', attrs: { id: 'filters', 'aria-label': 'filters' } },
    def.filters === 'range' ? h('label', null, h('span', null, 'Domain'), domain) : null,
    h('label', null, h('span', null, 'From'), from),
    h('label', null, h('span', null, 'To'), to),
    h('button', { class: 'button primary small', attrs: { type: 'submit' } }, 'Apply'),
    link(routeHref(currentRoute().view), 'Clear', { class: 'button small' }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(withParams({ domain: def.filters === 'range' ? domain.value || null : null, from: from.value || null, to: to.value || null }));
  });
  return form;
}

async function render(): Promise<void> {
  if (!meta) return;
  const seq = ++renderSeq;
  const route = currentRoute();
  const def = VIEWS[route.view] ?? overviewView;
  document.body.dataset.ready = '0';
  document.body.dataset.view = route.view;
  document.body.dataset.render = String(seq);
  document.title = `${def.title} · dmarc-lens`;
  const body = h('div', { class: 'view', attrs: { 'aria-busy': 'true' } });
  append(body, [loading()]);
  destroyCharts();
  clear(root);
  root.appendChild(frame(route.view, def, body));
  const ctx: ViewContext = {
    params: route.params,
    meta,
    refreshMeta: async () => {
      meta = await getJson<Meta>('/api/meta');
    },
  };
  let content;
  try {
    content = await def.render(ctx);
  } catch (err) {
    content = errorBox(err);
  }
  if (seq !== renderSeq) return;
  clear(body);
  append(body, [content]);
  body.removeAttribute('aria-busy');
  drawPendingCharts();
  document.body.dataset.ready = '1';
}

window.addEventListener('hashchange', () => {
  if (meta && !(session?.loginRequired && !session.authenticated)) void render();
});

boot().catch((err) => {
  clear(root);
  root.appendChild(errorBox(err));
  document.body.dataset.ready = '1';
});
