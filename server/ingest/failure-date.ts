/**
 * Strict date parsing for failure reports: RFC 5322 dates (with obsolete zone names and comments), the asctime
 * form some MTAs write, and ISO 8601. Anything else is null — never a guess (Date.parse accepts almost anything).
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Obsolete RFC 5322 zone names, minutes east of UTC. */
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
};

const RFC5322 =
  /^(?:[a-z]{3,9},?\s+)?(\d{1,2})[\s-]+([a-z]{3,9})[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([+-]\d{2}:?\d{2}|[a-z]{1,5})?$/i;
const ASCTIME = /^(?:[a-z]{3,9},?\s+)?([a-z]{3,9})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([+-]\d{4}|[a-z]{1,5})\s+)?(\d{4})$/i;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$/i;

/** Epoch seconds of a date as written in mail headers / ARF fields, or null when it is not a recognisable date. */
export function parseMailDate(value: string | null | undefined): number | null {
  if (!value || value.length > 200) return null;
  const text = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  if (!text) return null;
  let m = RFC5322.exec(text);
  if (m) return build(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6], m[7]);
  m = ASCTIME.exec(text);
  if (m) return build(m[7]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5], m[6]);
  m = ISO.exec(text);
  if (m) {
    const month = Number(m[2]);
    return fromParts(Number(m[1]), month - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), zoneOffset(m[7]));
  }
  return null;
}

function build(year: string, month: string, day: string, hh: string, mm: string, ss: string | undefined, zone: string | undefined): number | null {
  const mon = MONTHS.indexOf(month.slice(0, 3).toLowerCase());
  if (mon < 0) return null;
  let y = Number(year);
  if (year.length === 2) y += y < 50 ? 2000 : 1900;
  else if (year.length === 3) y += 1900;
  return fromParts(y, mon, Number(day), Number(hh), Number(mm), Number(ss ?? 0), zoneOffset(zone));
}

function zoneOffset(zone: string | undefined): number | null {
  if (!zone) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (m) {
    const minutes = Number(m[2]) * 60 + Number(m[3]);
    return Number(m[3]) > 59 ? null : (m[1] === '-' ? -minutes : minutes);
  }
  // RFC 5322 §4.3: unknown alphabetic zones (military letters, CEST, …) count as -0000
  return ZONES[zone.toLowerCase()] ?? (/^[a-z]+$/i.test(zone) ? 0 : null);
}

function fromParts(y: number, mon: number, d: number, hh: number, mm: number, ss: number, offset: number | null): number | null {
  if (offset === null || mon < 0 || mon > 11 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const ms = Date.UTC(y, mon, d, hh, mm, Math.min(ss, 59));
  const check = new Date(ms);
  if (check.getUTCDate() !== d) return null; // 31 Feb and the like
  return Math.floor(ms / 1000) - offset * 60;
}
