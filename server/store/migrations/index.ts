import { initial } from './001-initial.ts';
import type { Migration } from './migration.ts';

/** Every migration, in version order. Append new ones; never edit or renumber a released one. */
export const MIGRATIONS: readonly Migration[] = [initial];
