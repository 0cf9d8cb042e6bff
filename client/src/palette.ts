/**
 * Colours (Okabe–Ito, distinguishable with the common colour-vision deficiencies). Colour never carries meaning
 * alone: every badge has a word and a symbol, every chart a legend and a table below it.
 */
export const COLORS = {
  pass: '#0072B2',
  fail: '#D55E00',
  dkim: '#009E73',
  spf: '#E69F00',
  neutral: '#8C8C8C',
  sky: '#56B4E9',
  yellow: '#F0E442',
  purple: '#CC79A7',
};

export const VERDICT_STYLE: Record<string, { label: string; symbol: string; color: string }> = {
  compliant: { label: 'Compliant', symbol: '✓', color: COLORS.dkim },
  'spf-only': { label: 'SPF only', symbol: '~', color: COLORS.yellow },
  'unsigned-vendor': { label: 'Unsigned vendor', symbol: '!', color: COLORS.spf },
  forwarded: { label: 'Forwarded', symbol: '↪', color: COLORS.sky },
  failing: { label: 'Failing', symbol: '✗', color: COLORS.fail },
};

export const DISPOSITION_COLORS = { none: COLORS.neutral, quarantine: COLORS.spf, reject: COLORS.fail };

/** a fixed sequence for categorical series (reporters, domains, reasons) */
export const SERIES = [COLORS.pass, COLORS.spf, COLORS.dkim, COLORS.fail, COLORS.sky, COLORS.purple, COLORS.yellow, COLORS.neutral];
