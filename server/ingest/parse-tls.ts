/**
 * SMTP TLS reports (RFC 8460): JSON → TlsReport. Pure: no I/O. Bad input is an InputRejected with a stable code:
 * 'empty', 'bad-json' (not JSON), 'schema' (JSON but not a usable TLS report), 'too-large' (limits).
 */
import type { TlsFailureDetail, TlsPolicy, TlsReport } from '../domain/report-types.ts';
import { InputRejected } from '../errors.ts';
import type { Limits } from './limits.ts';
import { countMember, isObject, jsonText, member, parseDateTime, stringList, stringMember, type JsonObject } from './tls-json.ts';

/** RFC 8460 JSON text (bytes, any BOM). Throws InputRejected('bad-json' | 'schema' | 'too-large', detail). */
export function parseTlsReport(json: Buffer | string, limits: Limits): TlsReport {
  const maxBytes = limits.maxElementBytes * 16;
  const size = typeof json === 'string' ? Buffer.byteLength(json, 'utf8') : json.length;
  if (size > maxBytes) throw new InputRejected('too-large', `TLS report of ${size} bytes exceeds ${maxBytes} bytes`);
  const text = jsonText(json);
  if (!text) throw new InputRejected('empty', 'empty TLS report');
  // memory bounded by construction: a report with n entries has at most ~3n+2 objects, so refuse before parsing
  const maxObjects = limits.maxTlsEntries * 4 + 64;
  const objects = countChar(text, '{', maxObjects + 1);
  if (objects > maxObjects) throw new InputRejected('too-large', `TLS report has more than ${maxObjects} JSON objects (limit ${limits.maxTlsEntries} entries)`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputRejected('bad-json', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(doc)) {
    throw new InputRejected('schema', `not an SMTP TLS report: the JSON top level is ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`}, not an object`);
  }
  return readReport(doc, limits);
}

function countChar(text: string, ch: string, stopAt: number): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0 && n < stopAt; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

function readReport(doc: JsonObject, limits: Limits): TlsReport {
  const reportId = stringMember(doc, 'report-id');
  const rawPolicies = member(doc, 'policies');
  if (rawPolicies === undefined && reportId === null) {
    throw new InputRejected('schema', 'not an SMTP TLS report: no "report-id" and no "policies"');
  }
  const orgName = stringMember(doc, 'organization-name');
  if (orgName === null) throw new InputRejected('schema', 'TLS report without "organization-name"');
  if (reportId === null) throw new InputRejected('schema', 'TLS report without "report-id"');
  const range = member(doc, 'date-range');
  if (!isObject(range)) throw new InputRejected('schema', 'TLS report without "date-range"');
  const begin = readDate(range, 'start-datetime');
  const end = readDate(range, 'end-datetime');
  if (end < begin) throw new InputRejected('schema', `date-range ends before it starts (${begin} > ${end})`);
  const contact = stringList(doc, 'contact-info');
  return {
    orgName,
    reportId,
    contactInfo: contact.length ? contact.join(', ') : null,
    begin,
    end,
    policies: readPolicies(rawPolicies, limits),
  };
}

function readDate(range: JsonObject, key: string): number {
  const raw = member(range, key);
  const t = parseDateTime(typeof raw === 'string' ? raw : null);
  if (t === null) {
    throw new InputRejected('schema', `date-range ${key} ${raw === undefined ? 'missing' : `is not an RFC 3339 date-time: ${JSON.stringify(raw).slice(0, 60)}`}`);
  }
  return t;
}

function readPolicies(raw: unknown, limits: Limits): TlsPolicy[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : null;
  if (list === null) throw new InputRejected('schema', '"policies" is not an array');
  let entries = list.length;
  if (entries > limits.maxTlsEntries) throw tooMany(entries, limits);
  return list.map((item, i) => {
    const where = `policies[${i}]`;
    if (!isObject(item)) throw new InputRejected('schema', `${where} is not an object`);
    const details = member(item, 'failure-details');
    const detailList = details === undefined || details === null ? [] : Array.isArray(details) ? details : [details];
    entries += detailList.length;
    if (entries > limits.maxTlsEntries) throw tooMany(entries, limits);
    return readPolicy(item, detailList, where);
  });
}

function tooMany(n: number, limits: Limits): InputRejected {
  return new InputRejected('too-large', `TLS report has more than ${limits.maxTlsEntries} policies and failure details (at least ${n})`);
}

function readPolicy(item: JsonObject, details: unknown[], where: string): TlsPolicy {
  const policy = member(item, 'policy');
  if (!isObject(policy)) throw new InputRejected('schema', `${where} has no "policy" object`);
  const policyType = stringMember(policy, 'policy-type')?.toLowerCase();
  if (!policyType) throw new InputRejected('schema', `${where} has no "policy-type"`);
  const summary = member(item, 'summary');
  const sums = isObject(summary) ? summary : {};
  return {
    policyType,
    policyString: stringList(policy, 'policy-string'),
    policyDomain: stringMember(policy, 'policy-domain')?.toLowerCase().replace(/\.$/, '') ?? '',
    mxHost: stringList(policy, 'mx-host'),
    successfulSessions: countMember(sums, 'total-successful-session-count', `${where}.summary`),
    failedSessions: countMember(sums, 'total-failure-session-count', `${where}.summary`),
    failureDetails: details.map((d, j) => readFailureDetail(d, `${where}.failure-details[${j}]`)),
  };
}

function readFailureDetail(d: unknown, where: string): TlsFailureDetail {
  if (!isObject(d)) throw new InputRejected('schema', `${where} is not an object`);
  const resultType = stringMember(d, 'result-type')?.toLowerCase();
  if (!resultType) throw new InputRejected('schema', `${where} has no "result-type"`);
  return {
    resultType,
    sendingMtaIp: stringMember(d, 'sending-mta-ip'),
    receivingMxHostname: stringMember(d, 'receiving-mx-hostname'),
    receivingMxHelo: stringMember(d, 'receiving-mx-helo'),
    receivingIp: stringMember(d, 'receiving-ip'),
    failedSessionCount: countMember(d, 'failed-session-count', where),
    additionalInformation: stringMember(d, 'additional-information'),
    failureReasonCode: stringMember(d, 'failure-reason-code'),
  };
}
