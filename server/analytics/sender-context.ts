/**
 * Who operates a source, as the analytics see it: the built-in known-senders map, the operator's config
 * (`senders` section: own services and approved sources) and the sources approved in the UI (database).
 */
import { createSenderMatcher, validateSenderConfig, type ApprovedSource, type SenderConfig, type SenderMatcher } from '../enrich/known-senders.ts';
import { listApprovals } from '../store/analytics-approved-store.ts';
import type { Driver } from '../store/driver.ts';

/** The operator's `approveSource` entry was not acceptable; `problems` says why (for a 400 answer). */
export class InvalidApproval extends Error {
  readonly code = 'invalid-approval';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`cannot approve this source: ${problems.join('; ')}`);
    this.name = 'InvalidApproval';
    this.problems = problems;
  }
}

/** Checks an approval the way the config file's entries are checked; returns it normalized. */
export function validApproval(source: ApprovedSource): ApprovedSource {
  const raw: Record<string, unknown> = {};
  for (const k of ['ip', 'cidr', 'baseDomain', 'service'] as const) if (source[k] !== undefined) raw[k] = source[k];
  const { config, problems } = validateSenderConfig({ approved: [raw] });
  const entry = config.approved?.[0];
  if (problems.length > 0 || !entry) throw new InvalidApproval(problems.map((p) => p.replace(/^senders\.approved\[0\]\.?/, '') || p));
  return entry;
}

export async function senderMatcher(driver: Driver, config: SenderConfig): Promise<SenderMatcher> {
  const stored = await listApprovals(driver);
  const approved: ApprovedSource[] = [
    ...(config.approved ?? []),
    ...stored.map(({ ip, cidr, baseDomain, service }) => ({ ...(ip ? { ip } : {}), ...(cidr ? { cidr } : {}), ...(baseDomain ? { baseDomain } : {}), ...(service ? { service } : {}) })),
  ];
  return createSenderMatcher({ services: config.services ?? [], approved });
}
