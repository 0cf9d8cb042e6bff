/**
 * Decoding of stored rows into the normalized shapes (StoredAggregate, StoredFailure…), so the web API can reuse
 * the exporters' shapes (server/export/shapes.ts) and its CSV agrees with the CLI's.
 */
import type { AggregateHeader, AggregateRecord, FailureReport, TlsFailureDetail } from '../../domain/report-types.ts';
import type { Row } from '../../store/driver.ts';
import type { StoredFailure } from '../../store/report-store.ts';
import { bool, int, intOrNull, json, text, textOrNull } from '../../store/row-decode.ts';

export { aggregateHeaderOf } from '../../store/aggregate-store.ts';

export function aggregateRecordOf(row: Row): AggregateRecord {
  return {
    ordinal: int(row, 'ordinal'),
    sourceIp: textOrNull(row, 'source_ip'),
    count: int(row, 'message_count'),
    disposition: textOrNull(row, 'disposition'),
    dkimEval: textOrNull(row, 'dkim_eval'),
    spfEval: textOrNull(row, 'spf_eval'),
    overrideReasons: json(row, 'override_reasons'),
    headerFrom: textOrNull(row, 'header_from'),
    envelopeFrom: textOrNull(row, 'envelope_from'),
    envelopeTo: textOrNull(row, 'envelope_to'),
    dkim: json(row, 'dkim'),
    spf: json(row, 'spf'),
    problems: json(row, 'problems'),
  };
}

export function storedFailureOf(row: Row): StoredFailure {
  const report: FailureReport = {
    feedbackType: text(row, 'feedback_type'),
    authFailure: textOrNull(row, 'auth_failure'),
    arrivalDate: intOrNull(row, 'arrival_date'),
    sourceIp: textOrNull(row, 'source_ip'),
    reportedDomain: textOrNull(row, 'reported_domain'),
    originalMailFrom: textOrNull(row, 'original_mail_from'),
    originalRcptTo: textOrNull(row, 'original_rcpt_to'),
    deliveryResult: textOrNull(row, 'delivery_result'),
    authenticationResults: textOrNull(row, 'authentication_results'),
    dkimDomain: textOrNull(row, 'dkim_domain'),
    dkimSelector: textOrNull(row, 'dkim_selector'),
    dkimIdentity: textOrNull(row, 'dkim_identity'),
    spfDns: textOrNull(row, 'spf_dns'),
    originalFrom: textOrNull(row, 'original_from'),
    originalTo: textOrNull(row, 'original_to'),
    originalSubject: textOrNull(row, 'original_subject'),
    originalMessageId: textOrNull(row, 'original_message_id'),
    originalDate: textOrNull(row, 'original_date'),
    reporterEmail: textOrNull(row, 'reporter_email'),
    reporterOrg: textOrNull(row, 'reporter_org'),
    userAgent: textOrNull(row, 'user_agent'),
    reportingMta: textOrNull(row, 'reporting_mta'),
    plainText: bool(row, 'plain_text'),
    fields: json(row, 'fields'),
    originalHeaders: textOrNull(row, 'original_headers'),
  };
  return {
    id: int(row, 'id'),
    report,
    origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member') },
    receivedAt: int(row, 'received_at'),
  };
}

export function tlsFailureDetailOf(row: Row): TlsFailureDetail {
  return {
    resultType: text(row, 'result_type'),
    sendingMtaIp: textOrNull(row, 'sending_mta_ip'),
    receivingMxHostname: textOrNull(row, 'receiving_mx_hostname'),
    receivingMxHelo: textOrNull(row, 'receiving_mx_helo'),
    receivingIp: textOrNull(row, 'receiving_ip'),
    failedSessionCount: int(row, 'failed_session_count'),
    additionalInformation: textOrNull(row, 'additional_information'),
    failureReasonCode: textOrNull(row, 'failure_reason_code'),
  };
}

/** `?, ?, …` for an IN list */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** a LIKE pattern matching `needle` anywhere (used with ESCAPE '\') */
export function containsPattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
