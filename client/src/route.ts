/**
 * Hash routing: `#/view?domain=…&from=…&to=…` — the view and its filters live in the URL, so a view can be
 * bookmarked and shared.
 */
export interface Route {
  view: string;
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [view = '', query = ''] = hash.split('?', 2);
  return { view: view || 'overview', params: new URLSearchParams(query) };
}

export function routeHref(view: string, params: Record<string, string | undefined | null> | URLSearchParams = {}): string {
  const q = params instanceof URLSearchParams ? new URLSearchParams(params) : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `#/${view}${s ? `?${s}` : ''}`;
}

/** the same view with some parameters changed (null removes one); paging cursors are dropped */
export function withParams(changes: Record<string, string | null>, view?: string): string {
  const r = currentRoute();
  const q = new URLSearchParams(r.params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') q.delete(k);
    else q.set(k, v);
  }
  return routeHref(view ?? r.view, q);
}

export function navigate(href: string): void {
  if (location.hash === href) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = href;
}

/** the filters every list shares, as API parameters */
export function rangeParams(params: URLSearchParams): Record<string, string | undefined> {
  return { domain: params.get('domain') ?? undefined, from: params.get('from') ?? undefined, to: params.get('to') ?? undefined };
}
