// The bounded memories of a batch (src/bounded-map.ts): at most `max`
// entries, the oldest forgotten first, a forgotten key taken again.
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../src/bounded-map.js';

describe('BoundedMap', () => {
  it('keeps the last `max` keys and forgets the oldest first', () => {
    const m = new BoundedMap<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c'].entries()) m.add(k, i);
    expect([m.get('a'), m.get('b'), m.get('c')]).toEqual([0, 1, 2]);
    m.add('d', 3);
    expect([m.get('a'), m.get('b'), m.get('c'), m.get('d')]).toEqual([undefined, 1, 2, 3]);
    m.add('e', 4);
    m.add('a', 5);
    expect([m.get('a'), m.get('b'), m.get('c'), m.get('d'), m.get('e')]).toEqual([5, undefined, undefined, 3, 4]);
    // Many more than max: never more than max remembered.
    for (let i = 0; i < 1000; i++) m.add(`k${i}`, i);
    expect(['k996', 'k997', 'k998', 'k999'].map((k) => m.get(k))).toEqual([undefined, 997, 998, 999]);
  });
});
