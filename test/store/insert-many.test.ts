import { describe, expect, it } from 'vitest';
import type { SqlValue } from '../../server/store/driver.ts';
import { EXACT_INSERT_ROWS, multiRowInsertSql, planInsertChunks, runInsertMany } from '../../server/store/insert-many.ts';
import { keyText } from '../../server/store/report-keys.ts';

describe('planInsertChunks', () => {
  it.each([
    [0, 14, 32_766, 500],
    [1, 14, 32_766, 500],
    [499, 14, 32_766, 500],
    [500, 14, 32_766, 500],
    [1234, 14, 32_766, 500],
    [200_000, 14, 65_535, 500],
    [10_000, 200, 32_766, 500], // the parameter limit, not the row preference, bounds a wide table
  ])('%i rows of %i columns: whole, within limits, few statement shapes', (rows, columns, maxParameters, rowsPerInsert) => {
    const sizes = planInsertChunks(rows, columns, maxParameters, rowsPerInsert);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(rows);
    for (const size of sizes) {
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(rowsPerInsert);
      expect(size * columns).toBeLessThanOrEqual(maxParameters);
    }
    expect(new Set(sizes).size).toBeLessThanOrEqual(12);
  });

  it('writes a small remainder with one statement, and keeps the shapes of all row counts bounded', () => {
    for (const rows of [1, 7, 50, EXACT_INSERT_ROWS]) expect(planInsertChunks(rows, 15, 32_766, 500)).toEqual([rows]);
    expect(planInsertChunks(500 + 50, 15, 32_766, 500)).toEqual([500, 50]);
    const shapes = new Set<number>();
    for (let rows = 1; rows <= 2000; rows++) for (const size of planInsertChunks(rows, 15, 32_766, 500)) shapes.add(size);
    expect(shapes.size).toBeLessThanOrEqual(EXACT_INSERT_ROWS + 12);
  });
});

describe('runInsertMany', () => {
  it('passes every value once, in order, with one placeholder per value', async () => {
    const columns = ['a', 'b', 'c'];
    const values: SqlValue[] = Array.from({ length: 3 * 1001 }, (_, i) => i);
    const seen: SqlValue[] = [];
    await runInsertMany(
      async (sql, params) => {
        expect(sql.split('?').length - 1).toBe(params.length);
        expect(sql).toBe(multiRowInsertSql('t', columns, params.length / 3));
        seen.push(...params);
      },
      't',
      columns,
      values,
      { maxParameters: 900, rowsPerInsert: 500 },
    );
    expect(seen).toEqual(values);
  });

  it('refuses values that do not make whole rows', async () => {
    await expect(runInsertMany(async () => {}, 't', ['a', 'b'], [1, 2, 3], { maxParameters: 100, rowsPerInsert: 10 })).rejects.toThrow(
      /whole rows/,
    );
  });
});

describe('keyText', () => {
  it('folds case (beyond ASCII), trims and collapses whitespace; null is empty', () => {
    expect(keyText('  Google\tInc. \n')).toBe('google inc.');
    expect(keyText('ÄÖÜ-Report')).toBe('äöü-report');
    expect(keyText('A\u0308')).toBe(keyText('\u00c4')); // composed and decomposed Ä
    expect(keyText(null)).toBe('');
    expect(keyText('')).toBe('');
  });
});
