/**
 * A short-lived memo of analytics answers: a view asks for the same figures twice at once (its table and its
 * chart), and within a few seconds the answer is the same. Kept small on purpose — a few entries, and lists
 * longer than `maxItems` are not kept at all (an all-domains source list can be hundreds of thousands of rows).
 * Cleared on any write from the UI.
 */
export class AnalyticsMemo {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();
  constructor(
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 2,
    private readonly maxItems = 50_000,
  ) {}

  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = compute();
    this.entries.set(key, { at: now, value });
    value.then(
      (v) => {
        if (Array.isArray(v) && v.length > this.maxItems && this.entries.get(key)?.value === value) this.entries.delete(key);
      },
      // a failure is not remembered
      () => this.entries.delete(key),
    );
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
