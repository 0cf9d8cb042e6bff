/**
 * Login rate limiting over the web_login_attempts table. Failures are counted per (address, user), per address
 * and per user name; the limits are loose per user name, so a stranger cannot lock the owner out by guessing from
 * elsewhere, yet guessing one account from many addresses still slows to a crawl.
 */
import type { Driver } from '../../store/driver.ts';
import { keyText } from '../../store/report-keys.ts';
import { clearFailedLogins, countFailedLogins, recordFailedLogin } from '../../store/web-login-attempts.ts';

export interface ThrottleRule {
  max: number;
  windowSec: number;
}

export interface ThrottleRules {
  addressAndUser: ThrottleRule;
  address: ThrottleRule;
  user: ThrottleRule;
}

export const DEFAULT_THROTTLE: ThrottleRules = {
  addressAndUser: { max: 5, windowSec: 15 * 60 },
  address: { max: 20, windowSec: 15 * 60 },
  user: { max: 100, windowSec: 60 * 60 },
};

function keysOf(address: string, user: string) {
  const name = keyText(user).slice(0, 200);
  return { addressAndUser: `au:${address}|${name}`, address: `a:${address}`, user: `u:${name}` };
}

/** seconds until the next attempt is allowed, or 0 when it is allowed now */
export async function loginBlockedFor(driver: Driver, rules: ThrottleRules, address: string, user: string, now: number): Promise<number> {
  const keys = keysOf(address, user);
  let wait = 0;
  for (const name of Object.keys(keys) as (keyof ThrottleRules)[]) {
    const rule = rules[name];
    const seen = (await countFailedLogins(driver, [keys[name]], now - rule.windowSec)).get(keys[name]);
    // blocked until the oldest failure in the window leaves it
    if (seen && seen.count >= rule.max) wait = Math.max(wait, seen.oldest + rule.windowSec - now);
  }
  return Math.max(0, wait);
}

export async function noteFailedLogin(driver: Driver, address: string, user: string, now: number): Promise<void> {
  await recordFailedLogin(driver, Object.values(keysOf(address, user)), now);
}

/** a successful login forgets the failures of this address for this user */
export async function noteGoodLogin(driver: Driver, address: string, user: string): Promise<void> {
  await clearFailedLogins(driver, [keysOf(address, user).addressAndUser]);
}
