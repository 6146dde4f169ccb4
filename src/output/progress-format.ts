// How --progress looks: the live line and the closing summary. Shared by the
// renderer on the main thread and the one on a worker thread (progress-thread.ts),
// so it imports nothing.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 512 B, 12.3 KiB, 845.1 MiB. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 0.84s, 12.3s, 2m05s. */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  const m = Math.floor(s / 60);
  const rest = Math.floor(s - m * 60);
  return `${m}m${String(rest).padStart(2, '0')}s`;
}

/** Drawn over itself: carriage return, the figures, erase to the end of the line. */
export function liveLine(bytes: number, bytesPerSecond: number, seconds: number): string {
  return `\r  ${formatBytes(bytes)}  ${formatRate(bytesPerSecond)}  ${formatSeconds(seconds)}\x1b[K`;
}

export const ERASE_LINE = '\r\x1b[K';

/** The line that stays: total (exact and readable), time, average rate. */
export function summaryLine(op: string, bytes: number, seconds: number, detail?: string): string {
  const average = bytes / Math.max(seconds, 0.001);
  return `ipcctl: ${op}: ${bytes} bytes (${formatBytes(bytes)}) in ${formatSeconds(seconds)}, ${formatRate(average)}${detail ? `; ${detail}` : ''}\n`;
}

/**
 * The current rate: bytes over the last second or so of samples, so that a
 * stall shows as a falling rate rather than an average that hides it.
 */
export class RateWindow {
  private readonly samples: Array<[number, number]> = [];
  constructor(private readonly spanMs = 1000) {}

  sample(nowMs: number, bytes: number): number {
    this.samples.push([nowMs, bytes]);
    while (this.samples.length > 2 && nowMs - this.samples[1]![0] >= this.spanMs) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const dt = (nowMs - t0) / 1000;
    return dt > 0 ? (bytes - b0) / dt : 0;
  }
}

/** How often the live line is redrawn. */
export const REDRAW_MS = 250;
