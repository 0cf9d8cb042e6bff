/**
 * The DNS checker of the web app. The resolver's own cache is off: the checker caches whole checks (for the TTL of
 * their answers), and "Re-check now" must see records changed a minute ago.
 */
import { CachedChecker } from '../dns/check-cache.ts';
import type { PolicyFetcher } from '../dns/check-types.ts';
import { createPolicyFetcher } from '../dns/fetch-policy.ts';
import { createResolver } from '../dns/resolver.ts';

export function createWebChecker(opts: { servers?: string[]; timeoutMs?: number; fetchPolicy?: PolicyFetcher } = {}): CachedChecker {
  const lookup = createResolver({ timeoutMs: opts.timeoutMs ?? 2500, tries: 2, cache: false, ...(opts.servers ? { servers: opts.servers } : {}) });
  return new CachedChecker({ lookup, fetchPolicy: opts.fetchPolicy ?? createPolicyFetcher() });
}
