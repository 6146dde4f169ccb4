// A spinner on stderr while a person waits: only on a terminal, never under
// --json, and only once a wait lasts longer than a moment. ora is loaded
// only when a spinner is actually shown.
//
// ora draws the frames, but we run its clock: ora.start() would also hook
// process.stdout, and opening that stream makes a piped fd 1 non-blocking,
// for us (every full pipe becomes a retry loop) and for every other process
// sharing the pipe (see keepStdioBlocking). For the same reason the terminal
// test is isatty(2), not process.stderr.isTTY (with 2>&1, fd 2 is that pipe).
import { importEsm } from './esm.js';
import { isatty } from 'node:tty';
import { keepStdioBlocking, writeStderrRaw } from './sink.js';
import { colorWanted, settings } from './style.js';

const DELAY_MS = 400;

export interface SpinnerHandle {
  /** Change the text (shown at the next frame). */
  update(text: string): void;
  /** Erase the spinner; call it before anything else is written. Idempotent. */
  stop(): void;
}

const NONE: SpinnerHandle = { update() {}, stop() {} };

/** True when a spinner or progress line may be drawn on stderr. */
export function stderrIsLive(): boolean {
  return !settings.json && isatty(2);
}

type Ora = typeof import('ora').default;
let loading: Promise<Ora> | null = null;
let loaded: Ora | null = null;

function loadOra(): Promise<Ora> {
  loading ??= importEsm<typeof import('ora')>('ora').then((m) => {
    keepStdioBlocking(); // chalk, under ora, imports node:process
    return (loaded = m.default);
  });
  return loading;
}

/**
 * Load ora now, while the event loop runs freely. A wait in the socket
 * reactor lets the loop turn only every few tens of milliseconds, and ora's
 * twenty-odd module files would then take over a second to arrive: commands
 * that wait there await this first (in parallel with their own imports).
 */
export async function preloadSpinner(): Promise<void> {
  if (stderrIsLive()) await loadOra();
}

const CURSOR_HIDE = '\x1b[?25l';
const CURSOR_SHOW = '\x1b[?25h';

function showCursor(): void {
  writeStderrRaw(CURSOR_SHOW);
}

export function startSpinner(text: string, delayMs = DELAY_MS): SpinnerHandle {
  if (!stderrIsLive()) return NONE;
  let stopped = false;
  let spinner: { render(): unknown; clear(): unknown; text: string } | null = null;
  let ticker: NodeJS.Timeout | undefined;
  const show = async () => {
    const ora = loaded ?? (await loadOra());
    if (stopped) return;
    // A pty nobody sized (script(1) under a pipe, some serial consoles)
    // reports 0 columns; ora would then count infinitely many wrapped lines
    // to clear and never return. Such a terminal is as good as 80 wide.
    if (!process.stderr.columns) process.stderr.columns = 80;
    // stderr is a terminal here, so this is a tty.WriteStream, which Node
    // keeps in blocking mode.
    const s = ora({
      text,
      stream: process.stderr,
      // The spinner's own colour follows NO_COLOR and --no-color like ours.
      color: colorWanted(2) ? 'cyan' : false,
      // discardStdin would put the terminal in raw mode, turning Ctrl-C into a
      // keypress instead of the SIGINT our waits listen for.
      discardStdin: false,
      // We decided already that stderr is a terminal; ora's own test would
      // also switch the animation off wherever a CI variable is set.
      isEnabled: process.env.TERM !== 'dumb',
      hideCursor: false,
    });
    if (!s.isEnabled) {
      // A dumb terminal: one plain line, as ora would print it.
      writeStderrRaw(`- ${text}\n`);
      return;
    }
    spinner = s;
    writeStderrRaw(CURSOR_HIDE);
    process.once('exit', showCursor);
    s.render();
    ticker = setInterval(() => s.render(), s.interval);
    ticker.unref();
  };
  // A spinner that cannot be shown is no failure: the wait goes on without it.
  const timer = setTimeout(() => void show().catch(() => {}), delayMs);
  timer.unref();
  return {
    update(t: string) {
      text = t;
      if (spinner) spinner.text = t;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      clearInterval(ticker);
      if (spinner) {
        spinner.clear();
        showCursor();
        process.off('exit', showCursor);
        spinner = null;
      }
    },
  };
}
