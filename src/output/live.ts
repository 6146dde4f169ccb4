// Output that repeats: a live, redrawing screen on a terminal, and JSON
// Lines snapshots everywhere else. The terminal is always given back as it
// was (cursor shown, main screen, cooked input), whichever way we leave.
import { InterruptedError } from '../errors.js';
import { jsonLine } from './json.js';
import { OutputClosedError, writeStdout } from './sink.js';
import { type LongTimer, setLongTimeout } from '../timer.js';

export interface Repeat {
  intervalMs: number;
  /** Stop after this many frames; undefined for until told. */
  count?: number;
}

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const CURSOR_HIDE = '\x1b[?25l';
const CURSOR_SHOW = '\x1b[?25h';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/** Fit a frame into the terminal: no line wraps, no scrolling. */
function fit(text: string, rows: number, cols: number): string {
  let lines = text.replace(/\n$/, '').split('\n');
  if (lines.length > rows) {
    const more = lines.length - (rows - 1);
    lines = [...lines.slice(0, rows - 1), `... ${more} more lines`];
  }
  return lines.map((l) => (l.length > cols ? l.slice(0, cols) : l) + CLEAR_LINE_END).join('\r\n');
}

/**
 * Redraw `frame()` every interval until q, Ctrl-C (as a key: it quits
 * normally), --count frames, or a signal. SIGINT as a signal (not a key)
 * ends with InterruptedError (exit 130).
 */
export async function liveScreen(repeat: Repeat, header: () => string, frame: () => string): Promise<void> {
  const out = process.stdout;
  const input = process.stdin.isTTY ? process.stdin : null;
  let stop: ((why: 'quit' | 'signal') => void) | null = null;
  const stopped = new Promise<'quit' | 'signal'>((r) => (stop = r));
  const onKey = (d: Buffer) => {
    // q, Q, Ctrl-C (0x03 in raw mode), Ctrl-D.
    if (d.includes(0x71) || d.includes(0x51) || d.includes(0x03) || d.includes(0x04)) stop!('quit');
  };
  const onSigint = () => stop!('signal');
  const onSigterm = () => stop!('quit');
  let redraw = () => {};
  const onResize = () => redraw();
  writeStdout(ALT_SCREEN_ON + CURSOR_HIDE);
  try {
    if (input) {
      input.setRawMode(true);
      input.on('data', onKey);
      input.resume();
    }
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    out.on('resize', onResize);
    let last = '';
    redraw = () => {
      const text = `${header()}\n\n${last}`;
      writeStdout(HOME + fit(text, out.rows || 24, out.columns || 80) + CLEAR_BELOW);
    };
    for (let n = 0; repeat.count === undefined || n < repeat.count; n++) {
      if (n > 0) {
        let timer: LongTimer | undefined;
        const tick = new Promise<'tick'>((r) => (timer = setLongTimeout(() => r('tick'), repeat.intervalMs)));
        const why = await Promise.race([tick, stopped]);
        timer?.clear();
        if (why !== 'tick') {
          if (why === 'signal') throw new InterruptedError('ls --watch: interrupted');
          return;
        }
      }
      last = frame();
      redraw();
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    out.off('resize', onResize);
    if (input) {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
    }
    writeStdout(CURSOR_SHOW + ALT_SCREEN_OFF);
  }
}

/**
 * One JSON line per interval from `snapshot()`. A reader that goes away ends
 * it quietly; SIGINT ends it with InterruptedError (exit 130).
 */
export async function jsonLinesEvery(repeat: Repeat, snapshot: () => unknown, serialize: (v: unknown) => string = jsonLine): Promise<void> {
  let interrupted = false;
  let wake: (() => void) | null = null;
  const onSigint = () => {
    interrupted = true;
    wake?.();
  };
  process.on('SIGINT', onSigint);
  try {
    for (let n = 0; repeat.count === undefined || n < repeat.count; n++) {
      if (n > 0) {
        let timer: LongTimer | undefined;
        await new Promise<void>((r) => {
          wake = r;
          timer = setLongTimeout(r, repeat.intervalMs);
        });
        timer?.clear();
      }
      if (interrupted) throw new InterruptedError('ls --watch: interrupted');
      try {
        writeStdout(serialize(snapshot()));
      } catch (e) {
        if (e instanceof OutputClosedError) return;
        throw e;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
