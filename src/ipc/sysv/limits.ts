// System-wide limits from /proc/sys/kernel (what `ipcs -l` shows).
import { readFileSync } from 'node:fs';

export function readKernelNumbers(name: string): number[] {
  try {
    return readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

export function kernelLimit(name: string, fallback: number): number {
  const [n] = readKernelNumbers(name);
  return n === undefined || Number.isNaN(n) ? fallback : n;
}
