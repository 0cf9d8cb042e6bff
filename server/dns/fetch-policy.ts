/**
 * The default MTA-STS policy fetcher: HTTPS GET with a timeout and a size cap, redirects not followed
 * (RFC 8461 3.3). Tests inject their own fetcher instead.
 */
import type { PolicyFetcher } from './check-types.ts';

export interface PolicyFetcherOptions {
  timeoutMs?: number;
  /** RFC 8461 3.3 lets senders cap the policy at 64 KiB */
  maxBytes?: number;
}

export function createPolicyFetcher(options: PolicyFetcherOptions = {}): PolicyFetcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  return async (url) => {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } });
    if (res.status !== 200 || res.body === null) {
      await res.body?.cancel();
      return { status: res.status, body: '' };
    }
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new Error(`policy larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
  };
}
