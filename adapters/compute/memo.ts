/**
 * Results by key, computed once: concurrent callers with the same key share one computation, and
 * the most recent `capacity` results are kept (a failed computation is not kept).
 */
export class BoundedMemo<V> {
  private readonly entries = new Map<string, Promise<V>>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity: number) {}

  /** `keep`: whether a computed value may be reused (e.g. not when part of it could not be computed). */
  get(key: string, compute: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const found = this.entries.get(key);
    if (found) {
      this.hits += 1;
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, found);
      return found;
    }
    this.misses += 1;
    const value = compute();
    this.entries.set(key, value);
    const forget = () => this.entries.get(key) === value && this.entries.delete(key);
    value.then((result) => keep(result) || forget(), forget);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
