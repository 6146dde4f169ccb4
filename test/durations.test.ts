// Durations: what the parser accepts is honoured in full (src/timer.ts
// chains timers past setTimeout's 2^31-1 ms), and what it cannot honour is
// refused (exit 2 through UsageError).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from '../src/commands/common/args.js';
import { parseAge } from '../src/commands/common/select-options.js';
import { UsageError } from '../src/errors.js';
import { MAX_TIMER_MS, setLongTimeout } from '../src/timer.js';

afterEach(() => vi.useRealTimers());

describe('setLongTimeout', () => {
  it('fires after a delay beyond one setTimeout, not before', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const ms = 1000 * 3_600_000; // 1000h
    setLongTimeout(fn, ms);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(ms - MAX_TIMER_MS - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clear() stops it in any piece', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = setLongTimeout(fn, 3 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    t.clear();
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a short delay is one plain timer', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    setLongTimeout(fn, 250);
    vi.advanceTimersByTime(249);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1.5', 1500],
    ['250ms', 250],
    ['2m', 120_000],
    ['1000h', 3_600_000_000],
    ['.5s', 500],
    [`${2 ** 31 - 1}`, MAX_DURATION_MS],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['-1', '-0.5s', '', ' ', 'NaN', 'abc', '1e3', '1d', '99999999999h', `${2 ** 31}`, '1.5.5', '0x10'])('%j is refused as a usage error', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(UsageError);
  });

  it('names the option and says why', () => {
    expect(() => parseDuration('-1', '--watch interval')).toThrow("invalid --watch interval '-1': must not be negative");
    expect(() => parseDuration('99999999999h')).toThrow(/too long/);
  });

  it('an age may be in days', () => {
    expect(parseAge('2d')).toBe(172_800_000);
    expect(() => parseAge('-2d')).toThrow(UsageError);
  });
});
