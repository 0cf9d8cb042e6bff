/** Every size and count limit of the ingest path, in one place so no two parsers drift apart. */
export interface Limits {
  /** largest input file / mail / stdin accepted, bytes (compressed, as read) */
  maxInputBytes: number;
  /** largest decompressed size of any one member (xml/json/mail inside a container), bytes */
  maxDecompressedBytes: number;
  /**
   * largest expansion ratio of a compressed stream (decompressed / compressed bytes), enforced once more than
   * `ratioCheckAfterBytes` have come out. Real reports compress 10–40:1; bombs compress 1000:1.
   */
  maxCompressionRatio: number;
  ratioCheckAfterBytes: number;
  /** total decompressed bytes produced from one input, all members together */
  maxTotalDecompressedBytes: number;
  /** most members taken from one archive / mails from one mbox / attachments from one mail */
  maxMembers: number;
  /** deepest container nesting (gzip in zip in mail …) */
  maxNesting: number;
  /** most <record> elements in one aggregate report */
  maxRecords: number;
  /** deepest XML element nesting accepted */
  maxXmlDepth: number;
  /** largest single <record> element or header, bytes of text */
  maxElementBytes: number;
  /** most policies / failure details in one TLS report */
  maxTlsEntries: number;
  /** largest quarantined copy kept of a rejected input, bytes (longer inputs are kept truncated) */
  maxQuarantineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInputBytes: 512 * 1024 * 1024,
  maxDecompressedBytes: 1024 * 1024 * 1024,
  maxCompressionRatio: 250,
  ratioCheckAfterBytes: 8 * 1024 * 1024,
  maxTotalDecompressedBytes: 2 * 1024 * 1024 * 1024,
  maxMembers: 1000,
  maxNesting: 6,
  maxRecords: 2_000_000,
  maxXmlDepth: 32,
  maxElementBytes: 1024 * 1024,
  maxTlsEntries: 100_000,
  maxQuarantineBytes: 64 * 1024 * 1024,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
