// A map of at most `max` entries that forgets the oldest one as it takes a
// new one past that, for the memories a batch keeps of the lines, words and
// keys it has seen. Forgetting runs the same code on every insert (a ring
// of the keys in insertion order; deleting the empty slot's `undefined` is
// a no-op): a path first taken only once the map is full would arrive in
// code V8 optimized without it, and throw that code away (for the batch's
// largest functions, ~35 ms of compiling each time).
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  private readonly ring: (K | undefined)[];
  private next = 0;

  constructor(private readonly max: number) {
    this.ring = new Array<K | undefined>(max).fill(undefined);
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Remember `value` for a key not in the map (see get). */
  add(key: K, value: V): void {
    const at = this.next;
    this.next = at + 1 === this.max ? 0 : at + 1;
    this.map.delete(this.ring[at] as K);
    this.ring[at] = key;
    this.map.set(key, value);
  }
}
