// A spinner on stderr while a person waits: only on a terminal, never under
// --json, and only once a wait lasts longer than a moment. ora is loaded
// only when a spinner is actually shown.
import { settings } from './style.js';

const DELAY_MS = 400;

export interface SpinnerHandle {
  stop(): void;
}

export function startSpinner(text: string): SpinnerHandle {
  if (!process.stderr.isTTY || settings.json) return { stop() {} };
  let stopped = false;
  let spinner: { stop(): void } | null = null;
  const timer = setTimeout(async () => {
    const { default: ora } = await import('ora');
    if (stopped) return;
    // discardStdin would put the terminal in raw mode, turning Ctrl-C into a
    // keypress instead of the SIGINT our waits listen for.
    spinner = ora({ text, stream: process.stderr, color: 'cyan', discardStdin: false }).start();
  }, DELAY_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      spinner?.stop();
    },
  };
}
