import type { Migration } from './migration.ts';

/** Reserved for the analytics layer (versions 2–9); a no-op so later migrations keep consecutive numbers. */
export const reserved7: Migration = {
  version: 7,
  name: 'reserved-7',
  sql: () => '-- reserved',
};
