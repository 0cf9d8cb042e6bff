/**
 * The SPF lookup walk (RFC 7208 4.6.4): follows include: and redirect= through the whole tree, counting
 * the DNS-querying terms (limit 10) with a per-term breakdown, void lookups (limit 2), loops, and targets
 * without SPF records. It is a worst case: every term is counted as if no earlier one matched.
 */
import type { DnsLookup, Finding } from './check-types.ts';
import { describeAbsence, dnsFailure, isAbsent, txtRecords } from './dns-findings.ts';
import { finding } from './finding-codes.ts';
import { analyzeMechanisms, hasMacro, isSpfRecord, LOOKUP_TERMS, parseSpf, type ParsedSpf } from './spf-record.ts';

export const MAX_LOOKUPS = 10;
export const MAX_VOID_LOOKUPS = 2;
/** hard bounds on the walk itself, whatever the records say */
const MAX_DEPTH = 12;
const MAX_COUNTED = 60;
const LISTED_VOIDS = 5;

export interface SpfTermCost {
  term: string;
  /** 1 for the term itself plus everything below it */
  lookups: number;
  child?: SpfNode;
  note?: string;
}

export interface SpfNode {
  domain: string;
  record: string;
  /** lookups caused by this record's terms and everything below them */
  total: number;
  terms: SpfTermCost[];
}

export interface SpfWalk {
  root: SpfNode;
  totalLookups: number;
  voidLookups: string[];
  findings: Finding[];
}

interface WalkState {
  lookups: number;
  voids: string[];
  findings: Finding[];
  lookup: DnsLookup;
}

export async function walkSpf(domain: string, record: string, lookup: DnsLookup): Promise<SpfWalk> {
  const state: WalkState = { lookups: 0, voids: [], findings: [], lookup };
  const root = await walkRecord(domain, record, parseSpf(record), '', [domain], state);
  const findings = state.findings;
  const breakdown = describeNode(root);
  if (state.lookups > MAX_LOOKUPS) {
    findings.push(finding('spf-too-many-lookups', `The record needs ${state.lookups} DNS lookups; the limit is ${MAX_LOOKUPS}, so receivers return permerror (SPF fails for all mail). Breakdown: ${breakdown}.`, 'Replace includes that expand to many lookups with ip4:/ip6: ranges, or remove senders you no longer use.'));
  } else {
    findings.push(finding('spf-lookup-count', `${state.lookups} of ${MAX_LOOKUPS} DNS lookups${breakdown ? `: ${breakdown}` : ''}.`));
  }
  for (const v of state.voids.slice(0, LISTED_VOIDS)) findings.push(finding('spf-void-lookup', `${v}.`));
  if (state.voids.length > MAX_VOID_LOOKUPS) {
    const more = state.voids.length > LISTED_VOIDS ? ` (${state.voids.length - LISTED_VOIDS} not listed separately)` : '';
    findings.push(finding('spf-too-many-void-lookups', `${state.voids.length} lookups return no records${more}; more than ${MAX_VOID_LOOKUPS} is a permanent error (RFC 7208 4.6.4).`, 'Remove the terms that point at names without records.'));
  }
  return { root, totalLookups: state.lookups, voidLookups: state.voids, findings };
}

async function walkRecord(domain: string, record: string, parsed: ParsedSpf, via: string, stack: string[], state: WalkState): Promise<SpfNode> {
  const node: SpfNode = { domain, record, total: 0, terms: [] };
  const where = via === '' ? `the record of ${domain}` : `the record of ${domain} (through ${via})`;
  if (parsed.problems.length > 0) {
    state.findings.push(finding('spf-syntax', `Syntax error in ${where}: ${parsed.problems.join('; ')}. Receivers return permerror.`));
  }
  state.findings.push(...analyzeMechanisms(domain, parsed, via));
  const hasAll = parsed.terms.some((t) => t.kind === 'mechanism' && t.name === 'all');

  for (const term of parsed.terms) {
    if (term.kind === 'mechanism' && term.name === 'all') break; // later terms are never evaluated
    const isRedirect = term.kind === 'modifier' && term.name === 'redirect';
    if (isRedirect && hasAll) continue;
    const name: string = term.name;
    if (!LOOKUP_TERMS.has(name)) continue;
    state.lookups++;
    const cost: SpfTermCost = { term: term.raw, lookups: 1 };
    node.terms.push(cost);
    if (state.lookups > MAX_COUNTED || stack.length > MAX_DEPTH) {
      cost.note = 'not followed (walk bound reached)';
      continue;
    }
    const spec = term.kind === 'mechanism' ? (term.domainSpec ?? domain) : term.value;
    if (hasMacro(spec)) {
      cost.note = 'contains macros, expanded per message';
      continue;
    }
    const target = spec.toLowerCase().replace(/\.$/, '');
    const path = via === '' ? term.raw : `${via} → ${term.raw}`;
    if (name === 'include' || name === 'redirect') {
      const child = await followTarget(target, name, path, stack, state);
      if (child) {
        cost.child = child;
        cost.lookups += child.total;
      }
    } else if (name === 'a') {
      const [v4, v6] = await Promise.all([state.lookup.a(target), state.lookup.aaaa(target)]);
      const failure = dnsFailure(v4, 'A', target, 'SPF evaluation ends in temperror.') ?? dnsFailure(v6, 'AAAA', target, 'SPF evaluation ends in temperror.');
      if (failure) state.findings.push(failure);
      else if (isAbsent(v4) && isAbsent(v6)) state.voids.push(`${path}: ${target} has no A or AAAA record`);
    } else if (name === 'mx') {
      const answer = await state.lookup.mx(target);
      const failure = dnsFailure(answer, 'MX', target, 'SPF evaluation ends in temperror.');
      if (failure) state.findings.push(failure);
      else if (!answer.ok) state.voids.push(`${path}: ${target} ${describeAbsence(answer.error, 'MX')}`);
      else if (answer.value.length > 10) {
        state.findings.push(finding('spf-mx-too-many', `${path}: ${target} has ${answer.value.length} MX records; an mx mechanism with more than 10 is a permanent error.`, 'List the sending hosts with ip4:/ip6: instead of mx.'));
      }
    } else if (name === 'exists') {
      const answer = await state.lookup.a(target);
      const failure = dnsFailure(answer, 'A', target, 'SPF evaluation ends in temperror.');
      if (failure) state.findings.push(failure);
      else if (!answer.ok) state.voids.push(`${path}: ${target} ${describeAbsence(answer.error, 'A')}`);
    }
    // ptr: counted, not queried here (it needs the sender's address)
  }
  node.total = node.terms.reduce((sum, t) => sum + t.lookups, 0);
  return node;
}

async function followTarget(target: string, kind: 'include' | 'redirect', path: string, stack: string[], state: WalkState): Promise<SpfNode | null> {
  if (stack.includes(target)) {
    state.findings.push(finding('spf-loop', `${path} leads back to ${target} (${[...stack, target].join(' → ')}): a loop, which receivers end with permerror.`, `Remove ${kind === 'include' ? `include:${target}` : `redirect=${target}`} from the loop.`));
    return null;
  }
  const answer = await state.lookup.txt(target);
  const failure = dnsFailure(answer, 'TXT', target, 'SPF evaluation ends in temperror.');
  if (failure) {
    state.findings.push(failure);
    return null;
  }
  const code = kind === 'include' ? 'spf-include-no-record' : 'spf-redirect-no-record';
  if (!answer.ok) {
    state.voids.push(`${path}: ${target} ${describeAbsence(answer.error, 'TXT')}`);
    state.findings.push(finding(code, `${path}: ${target} ${describeAbsence(answer.error, 'TXT')}, so it has no SPF record; receivers return permerror.`, `Remove ${path.split(' → ').pop()} or publish an SPF record at ${target}.`));
    return null;
  }
  const spf = txtRecords(answer).filter(isSpfRecord);
  if (spf.length === 0) {
    state.findings.push(finding(code, `${path}: ${target} has no SPF record; receivers return permerror.`, `Remove ${path.split(' → ').pop()} or publish an SPF record at ${target}.`));
    return null;
  }
  if (spf.length > 1) {
    state.findings.push(finding('spf-multiple', `${target} (reached through ${path}) has ${spf.length} SPF records; receivers return permerror.`, `Merge them into one TXT record at ${target}.`));
    return null;
  }
  const record = spf[0] ?? '';
  return walkRecord(target, record, parseSpf(record), path, [...stack, target], state);
}

/** "include:a.test: 4 (include:b.test: 2 (a: 1), mx: 1), a: 1" */
export function describeNode(node: SpfNode): string {
  return node.terms
    .map((t) => {
      const inner = t.child && t.child.terms.length > 0 ? ` (${describeNode(t.child)})` : '';
      const note = t.note ? ` [${t.note}]` : '';
      return `${t.term}: ${t.lookups}${inner}${note}`;
    })
    .join(', ');
}
