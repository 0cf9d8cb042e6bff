/**
 * The fields of a `message/feedback-report` part (RFC 5965 / 6591 / 9991): header-style `Name: value` lines,
 * case-insensitive names, folded lines, repeated names. Pure text → values; no MIME here.
 */
import ipaddr from 'ipaddr.js';
import type { FailureReport } from '../domain/report-types.ts';
import { parseMailDate } from './failure-date.ts';
import { parseHeaderBlock } from './failure-mime.ts';

export type FieldMap = Record<string, string[]>;

const MAX_FIELDS = 1000;

/** All `Name: value` fields of a feedback-report body, names lower-cased, values unfolded and trimmed. */
export function collectFields(text: string): FieldMap {
  const fields: FieldMap = {};
  let n = 0;
  for (const { name, value } of parseHeaderBlock(text)) {
    if (++n > MAX_FIELDS) break;
    (fields[name] ??= []).push(value);
  }
  return fields;
}

/** The first non-empty value among the given field names. */
export function firstField(fields: FieldMap, ...names: string[]): string | null {
  for (const name of names) {
    for (const v of fields[name] ?? []) if (v.trim()) return v.trim();
  }
  return null;
}

/** `<a@b>` → `a@b`; empty and the null path `<>` → null. */
export function stripAngles(value: string | null): string | null {
  if (value === null) return null;
  const v = value.trim().replace(/^<(.*)>$/, '$1').trim();
  return v || null;
}

/** A source IP as written by reporters (`1.2.3.4 (host)`, `[IPv6:…]`, `1.2.3.4:25`) → canonical text, or null. */
export function normalizeIp(value: string | null): string | null {
  if (!value) return null;
  const token = value.replace(/\([^()]*\)/g, ' ').trim().split(/[\s,;]+/)[0] ?? '';
  let ip = token.replace(/^\[(.*)\]$/, '$1').replace(/^ipv6:/i, '');
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(ip);
  if (withPort) ip = withPort[1]!;
  if (ipaddr.IPv4.isValidFourPartDecimal(ip) || ipaddr.IPv6.isValid(ip)) {
    try {
      return ipaddr.process(ip).toString();
    } catch {
      return null;
    }
  }
  return null;
}

/** `example.com.` / `Example.COM` → `example.com`; values that are not a plain host name → null. */
export function normalizeDomain(value: string | null): string | null {
  if (!value) return null;
  const d = value.trim().replace(/^<|>$/g, '').replace(/\.$/, '').toLowerCase();
  if (d.length > 253) return null;
  return d.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) ? d : null;
}

/** `dns; mail.example.com` → `mail.example.com`. */
export function stripTypePrefix(value: string | null): string | null {
  if (!value) return null;
  return value.replace(/^[a-z0-9-]+\s*;\s*/i, '').trim() || null;
}

/** Comma-separated, lower-cased, de-duplicated Auth-Failure values across repeated fields. */
export function joinAuthFailures(values: readonly string[]): string | null {
  const out: string[] = [];
  for (const v of values) {
    for (const item of v.split(/[\s,;]+/)) {
      const t = item.trim().toLowerCase();
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out.length ? out.join(',') : null;
}

export type ArfPart = Pick<
  FailureReport,
  | 'feedbackType'
  | 'authFailure'
  | 'arrivalDate'
  | 'sourceIp'
  | 'reportedDomain'
  | 'originalMailFrom'
  | 'originalRcptTo'
  | 'deliveryResult'
  | 'authenticationResults'
  | 'dkimDomain'
  | 'dkimSelector'
  | 'dkimIdentity'
  | 'spfDns'
  | 'userAgent'
  | 'reportingMta'
>;

/**
 * Maps feedback-report fields to the normalized report. `feedbackType` is '' when the part has neither a
 * Feedback-Type nor an Auth-Failure field (the caller decides whether that is usable).
 */
export function readArfFields(fields: FieldMap): ArfPart {
  const authFailure = joinAuthFailures(fields['auth-failure'] ?? []);
  const feedbackType = (firstField(fields, 'feedback-type') ?? (authFailure ? 'auth-failure' : '')).toLowerCase();
  const rcpt = (fields['original-rcpt-to'] ?? []).map(stripAngles).filter((v): v is string => v !== null);
  return {
    feedbackType,
    authFailure,
    arrivalDate: parseMailDate(firstField(fields, 'arrival-date', 'received-date')),
    sourceIp: normalizeIp(firstField(fields, 'source-ip')),
    reportedDomain: normalizeDomain(firstField(fields, 'reported-domain')) ?? firstField(fields, 'reported-domain'),
    originalMailFrom: stripAngles(firstField(fields, 'original-mail-from')),
    originalRcptTo: rcpt.length ? rcpt.join(', ') : null,
    deliveryResult: firstField(fields, 'delivery-result')?.toLowerCase() ?? null,
    authenticationResults: firstField(fields, 'authentication-results'),
    dkimDomain: normalizeDomain(firstField(fields, 'dkim-domain')) ?? firstField(fields, 'dkim-domain'),
    dkimSelector: firstField(fields, 'dkim-selector'),
    dkimIdentity: firstField(fields, 'dkim-identity'),
    spfDns: firstField(fields, 'spf-dns'),
    userAgent: firstField(fields, 'user-agent'),
    reportingMta: stripTypePrefix(firstField(fields, 'reporting-mta')),
  };
}
