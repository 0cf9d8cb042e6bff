/** The plain-language form of a Readiness (pure): what `dmarc-lens readiness` prints by default. */
import type { Readiness, WhatIf } from '../domain/readiness.ts';

const n = (v: number): string => v.toLocaleString('en');
const pct = (part: number, of: number): string => (of > 0 ? `${((100 * part) / of).toFixed(1)}%` : '–');

export function formatReadiness(r: Readiness): string {
  const lines: string[] = [];
  lines.push(`${r.domain} — last ${r.days} day(s): ${n(r.messages)} message(s), ${pct(r.dmarcPass, r.messages)} pass DMARC`);
  lines.push('  Published policy:');
  for (const m of r.meaning) lines.push(`    ${m}`);
  if (r.messages > 0) {
    lines.push(...whatIfLines(r.whatIf.quarantine), ...whatIfLines(r.whatIf.reject));
    if (r.blockers.length > 0) {
      lines.push('  Must be fixed before enforcing:');
      for (const b of r.blockers) lines.push(`    - ${b.name}: ${n(b.messages)} failing message(s) from ${b.sources.join(', ')}${b.fix ? ` — ${b.fix}` : ''}`);
    }
    if (r.spfOnly.length > 0) lines.push(`  Passing with SPF only (fragile when forwarded): ${r.spfOnly.slice(0, 10).join(', ')}${r.spfOnly.length > 10 ? `, and ${r.spfOnly.length - 10} more` : ''}`);
  }
  lines.push(`  Next step: ${r.nextStep}`);
  return lines.join('\n') + '\n';
}

function whatIfLines(w: WhatIf): string[] {
  if (w.affected === 0) return [`  With p=${w.policy}: no message would be affected.`];
  const out = [
    `  With p=${w.policy}: ${n(w.affected)} message(s) would be ${w.effect} — legitimate ${n(w.legitimate)}, forwarded ${n(w.forwarded)}, unknown ${n(w.unknown)}`,
  ];
  for (const s of w.bySource.slice(0, 5)) out.push(`      ${s.label}${s.label !== s.sourceIp ? ` (${s.sourceIp})` : ''}: ${n(s.affected)} ${s.category}`);
  if (w.bySource.length > 5) out.push(`      … and ${w.bySource.length - 5} more source(s)`);
  return out;
}
