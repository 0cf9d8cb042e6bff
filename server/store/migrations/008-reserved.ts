import type { Migration } from './migration.ts';

/** Reserved for the analytics layer (versions 2–9); a no-op so later migrations keep consecutive numbers. */
export const reserved8: Migration = {
  version: 8,
  name: 'reserved-8',
  sql: () => '-- reserved',
};
