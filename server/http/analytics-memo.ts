/**
 * A short-lived memo of analytics answers: a view asks for the same figures twice (its table and its chart) and
 * a user clicks back and forth; within a few seconds the answer is the same. Cleared on any write from the UI.
 */
export class AnalyticsMemo {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();
  constructor(private readonly ttlMs = 10_000, private readonly maxEntries = 50) {}

  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = compute();
    this.entries.set(key, { at: now, value });
    // a failure is not remembered
    value.catch(() => this.entries.delete(key));
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
