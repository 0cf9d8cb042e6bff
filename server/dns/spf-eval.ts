/**
 * SPF check_host() (RFC 7208 4) for one IP, used to tell which report source IPs the published record
 * authorizes. Honours the 10-lookup and 2-void limits; ptr is not evaluated (it never matches here).
 */
import ipaddr from 'ipaddr.js';
import type { DnsAnswer, DnsLookup } from './check-types.ts';
import { isAbsent, txtRecords } from './dns-findings.ts';
import { expandMacros, type MacroContext } from './spf-macro.ts';
import { MAX_LOOKUPS, MAX_VOID_LOOKUPS } from './spf-lookups.ts';
import { hasMacro, isSpfRecord, parseSpf, type Qualifier, type SpfMechanism } from './spf-record.ts';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

const QUALIFIER_RESULT: Record<Qualifier, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };
const MAX_DEPTH = 12;

interface EvalState {
  lookups: number;
  voids: number;
  lookup: DnsLookup;
  ip: ipaddr.IPv4 | ipaddr.IPv6;
  sender: string;
}

class Abort {
  constructor(readonly result: 'permerror' | 'temperror') {}
}

/** The SPF result for mail from `ip` with envelope sender `sender` (default postmaster@<domain>). */
export async function checkHost(ipText: string, domain: string, lookup: DnsLookup, sender?: string): Promise<SpfResult> {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(ipText.trim());
  } catch {
    return 'permerror';
  }
  const state: EvalState = { lookups: 0, voids: 0, lookup, ip, sender: sender ?? `postmaster@${domain}` };
  try {
    return await evaluate(domain, state, 0);
  } catch (e) {
    if (e instanceof Abort) return e.result;
    throw e;
  }
}

async function evaluate(domain: string, state: EvalState, depth: number): Promise<SpfResult> {
  if (depth > MAX_DEPTH) throw new Abort('permerror');
  const answer = await state.lookup.txt(domain);
  if (!answer.ok) {
    if (isAbsent(answer)) return 'none';
    throw new Abort('temperror');
  }
  const records = txtRecords(answer).filter(isSpfRecord);
  if (records.length === 0) return 'none';
  if (records.length > 1) throw new Abort('permerror');
  const parsed = parseSpf(records[0] ?? '');
  if (parsed.problems.length > 0) throw new Abort('permerror');
  const ctx: MacroContext = { ip: state.ip, domain, sender: state.sender, helo: domain };

  for (const term of parsed.terms) {
    if (term.kind !== 'mechanism') continue;
    if (term.name !== 'all' && term.name !== 'ip4' && term.name !== 'ip6') countLookup(state);
    if (await matches(term, domain, ctx, state, depth)) return QUALIFIER_RESULT[term.qualifier];
  }
  if (parsed.redirect !== undefined) {
    countLookup(state);
    const target = targetOf(parsed.redirect, ctx);
    const result = await evaluate(target, state, depth + 1);
    if (result === 'none') throw new Abort('permerror');
    return result;
  }
  return 'neutral';
}

async function matches(term: SpfMechanism, domain: string, ctx: MacroContext, state: EvalState, depth: number): Promise<boolean> {
  const target = targetOf(term.domainSpec ?? domain, ctx);
  switch (term.name) {
    case 'all':
      return true;
    case 'ip4':
    case 'ip6':
      return inNetwork(state.ip, term.ip ?? '', term.name === 'ip4' ? (term.cidr4 ?? 32) : (term.cidr6 ?? 128));
    case 'include': {
      const result = await evaluate(target, state, depth + 1);
      if (result === 'pass') return true;
      if (result === 'temperror') throw new Abort('temperror');
      if (result === 'permerror' || result === 'none') throw new Abort('permerror');
      return false;
    }
    case 'a':
      return matchAddresses(await addressesOf(target, state), state, term);
    case 'mx': {
      const answer = await state.lookup.mx(target);
      const hosts = value(answer, state);
      if (hosts.length > 10) throw new Abort('permerror');
      for (const host of hosts) {
        if (host.exchange === '' || host.exchange === '.') continue;
        const addresses = await addressesOf(host.exchange, state, false);
        if (matchAddresses(addresses, state, term)) return true;
      }
      return false;
    }
    case 'exists':
      return value(await state.lookup.a(target), state).length > 0;
    case 'ptr':
      return false;
  }
}

function countLookup(state: EvalState): void {
  state.lookups++;
  if (state.lookups > MAX_LOOKUPS) throw new Abort('permerror');
}

function targetOf(spec: string, ctx: MacroContext): string {
  return (hasMacro(spec) ? expandMacros(spec, ctx) : spec).toLowerCase().replace(/\.$/, '');
}

/** answer value; absence counts as a void lookup (the 3rd is permerror); failures are temperror */
function value<T>(answer: DnsAnswer<T[]>, state: EvalState, countVoid = true): T[] {
  if (answer.ok) return answer.value;
  if (!isAbsent(answer)) throw new Abort('temperror');
  if (countVoid && ++state.voids > MAX_VOID_LOOKUPS) throw new Abort('permerror');
  return [];
}

async function addressesOf(name: string, state: EvalState, countVoid = true): Promise<string[]> {
  const answer = state.ip.kind() === 'ipv4' ? await state.lookup.a(name) : await state.lookup.aaaa(name);
  return value(answer, state, countVoid);
}

function matchAddresses(addresses: string[], state: EvalState, term: SpfMechanism): boolean {
  const bits = state.ip.kind() === 'ipv4' ? (term.cidr4 ?? 32) : (term.cidr6 ?? 128);
  return addresses.some((a) => inNetwork(state.ip, a, bits));
}

function inNetwork(ip: ipaddr.IPv4 | ipaddr.IPv6, network: string, bits: number): boolean {
  try {
    const net = ipaddr.parse(network);
    if (net.kind() !== ip.kind()) return false;
    return ip.match(net, bits);
  } catch {
    return false;
  }
}
