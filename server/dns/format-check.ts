/**
 * The human-readable report of a DomainCheck, for the terminal. Colours are plain ANSI codes and only
 * used when asked for (the caller decides: a TTY and no NO_COLOR).
 */
import type { DomainCheck, Finding, RecordCheck, Severity } from './check-types.ts';

export interface FormatOptions {
  color: boolean;
  /** long values and fixes are cut to this many characters (the JSON output has them in full) */
  maxValueLength?: number;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
type Style = keyof typeof CODES;

const STATUS_STYLE: Record<RecordCheck['status'], Style> = { pass: 'green', warn: 'yellow', fail: 'red' };
const SEVERITY_STYLE: Record<Severity, Style> = { error: 'red', warning: 'yellow', info: 'cyan' };
const SEVERITY_MARK: Record<Severity, string> = { error: '✗ error  ', warning: '! warning', info: 'i info   ' };

export function formatDomainCheck(check: DomainCheck, options: FormatOptions): string {
  const paint = (style: Style, text: string) => (options.color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text);
  const max = options.maxValueLength ?? 300;
  const cut = (s: string) => (s.length > max ? `${s.slice(0, max)}… (${s.length} characters, see --json)` : s);
  const lines: string[] = [`${paint('bold', check.domain)}  ${paint('dim', `checked ${check.checked_at}`)}`];
  const typeWidth = Math.max(...check.records.map((r) => r.type.length), 4);

  for (const record of check.records) {
    const status = paint(STATUS_STYLE[record.status], record.status.toUpperCase().padEnd(4));
    lines.push(`  ${status}  ${record.type.padEnd(typeWidth)}  ${record.name}`);
    if (record.value !== null) lines.push(`        ${paint('dim', cut(oneLine(record.value)))}`);
    for (const f of record.findings) lines.push(...formatFinding(f, paint, cut));
  }
  const all = check.records.flatMap((r) => r.findings);
  const count = (s: Severity) => all.filter((f) => f.severity === s).length;
  const errors = count('error');
  const warnings = count('warning');
  lines.push(`  ${paint(errors > 0 ? 'red' : warnings > 0 ? 'yellow' : 'green', `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`)}, ${count('info')} info`);
  return `${lines.join('\n')}\n`;
}

function formatFinding(f: Finding, paint: (s: Style, t: string) => string, cut: (s: string) => string): string[] {
  const out = [`        ${paint(SEVERITY_STYLE[f.severity], SEVERITY_MARK[f.severity])} ${paint('bold', f.code)}: ${f.message}`];
  if (f.fix !== undefined) {
    const [first = '', ...rest] = cut(f.fix).split('\n');
    out.push(`                  fix: ${first}`);
    for (const line of rest) out.push(`                       ${line}`);
  }
  return out;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ⏎ ');
}
