import type { Migration } from './migration.ts';

/** Reserved for the analytics layer (versions 2–9); a no-op so later migrations keep consecutive numbers. */
export const reserved9: Migration = {
  version: 9,
  name: 'reserved-9',
  sql: () => '-- reserved',
};
