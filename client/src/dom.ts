/**
 * Building DOM nodes without HTML strings: every string child becomes a text node, attributes are set one by one.
 * Report data is attacker-controlled, so nothing in the client ever assigns innerHTML.
 */
export type Child = Node | string | number | null | undefined | false | Child[];

export interface Props {
  class?: string;
  /** plain attributes (aria-*, role, type, title, href of our own API URLs …) */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  dataset?: Record<string, string>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props?.class) el.className = props.class;
  for (const [name, value] of Object.entries(props?.attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name)) throw new Error(`refusing event handler attribute ${name}`);
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [k, v] of Object.entries(props?.dataset ?? {})) el.dataset[k] = v;
  for (const [type, fn] of Object.entries(props?.on ?? {})) el.addEventListener(type, fn as EventListener);
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** a link to one of our own API paths or hash routes (never a URL that came from a report) */
export function link(href: string, text: Child, props: Props = {}): HTMLAnchorElement {
  if (!href.startsWith('/') && !href.startsWith('#')) throw new Error(`refusing non-local link ${href}`);
  return h('a', { ...props, attrs: { ...props.attrs, href } }, text);
}
