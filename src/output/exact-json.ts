// JSON with exact big integers. Kernel limits such as shmall and shmmax sit
// near 2^64, beyond what a double holds: they stay bigint up to here and are
// written as plain JSON numbers with every digit.
const MARK = '\u0000bigint:';

export function exactJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? MARK + v.toString() : v), indent);
  return text.replace(/"\\u0000bigint:(-?[0-9]+)"/g, '$1');
}
