import { initial } from './001-initial.ts';
import { analyticsRollups } from './002-analytics-rollups.ts';
import { mailAuth } from './003-mail-auth.ts';
import { enrichmentCache } from './004-enrichment-cache.ts';
import { approvedSources } from './005-approved-sources.ts';
import { checkHistory } from './006-check-history.ts';
import { reserved7 } from './007-reserved.ts';
import { reserved8 } from './008-reserved.ts';
import { reserved9 } from './009-reserved.ts';
import { webAuth } from './010-web-auth.ts';
import type { Migration } from './migration.ts';

/** Every migration, in version order. Append new ones; never edit or renumber a released one. */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  analyticsRollups,
  mailAuth,
  enrichmentCache,
  approvedSources,
  checkHistory,
  reserved7,
  reserved8,
  reserved9,
  webAuth,
];
