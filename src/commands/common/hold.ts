// `shm attach`: stay until --hold ends or Ctrl-C (exit 130, from the wait),
// with a spinner on a terminal that says what is held and how long is left.
import { startSpinner } from '../../output/spinner.js';
import { type LongTimer, setLongTimeout } from '../../timer.js';

/** Wait `holdMs` (undefined: until Ctrl-C), showing `holding` as the spinner's text. */
export async function hold(what: string, holding: string, holdMs: number | undefined): Promise<void> {
  const { waitFor } = await import('../../ipc/wait.js');
  const end = Date.now() + (holdMs ?? 0);
  const until = () => (holdMs === undefined ? '' : `, ${Math.max(1, Math.ceil((end - Date.now()) / 1000))}s left`);
  const spinner = startSpinner(`${holding}${until()}; Ctrl-C to detach`, 0);
  const countdown = holdMs === undefined ? undefined : setInterval(() => spinner.update(`${holding}${until()}; Ctrl-C to detach`), 250);
  // Held by a timer: without one Node would see nothing to wait for and exit.
  // (setLongTimeout: a --hold beyond setTimeout's 24.8 days is honoured.)
  const keepAlive = setInterval(() => {}, 1 << 30);
  let timer: LongTimer | undefined;
  const held = new Promise<void>((resolve) => {
    if (holdMs !== undefined) timer = setLongTimeout(resolve, holdMs);
  });
  try {
    await waitFor(held, { what });
  } finally {
    spinner.stop();
    clearInterval(countdown);
    timer?.clear();
    clearInterval(keepAlive);
  }
}
