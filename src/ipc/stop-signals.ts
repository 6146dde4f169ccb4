// SIGINT, SIGTERM and SIGHUP while a transfer runs: each asks it to stop
// taking, finish what it holds (write it or put it back) and say so. The
// listeners exist only for the duration of the transfer (dispose() removes
// them): `ipcctl batch` runs many commands in one process, and a signal
// between transfers is not ours to interpret.
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Exit status of a command ended by the signal, as a shell reports it: 128 + signal number. */
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export class StopSignals {
  /** The first stop signal that arrived, or null. */
  signal: StopSignal | null = null;
  private readonly handlers = new Map<StopSignal, () => void>();
  private readonly wakers = new Set<() => void>();

  constructor() {
    for (const sig of SIGNALS) {
      const handler = () => {
        // A second signal changes nothing: the first one is being honoured,
        // and what is in hand still has to be written or put back.
        this.signal ??= sig;
        for (const wake of [...this.wakers]) wake();
      };
      this.handlers.set(sig, handler);
      process.on(sig, handler);
    }
  }

  get stopped(): boolean {
    return this.signal !== null;
  }

  /** Call `wake` on a stop signal until the returned function is called. */
  onStop(wake: () => void): () => void {
    this.wakers.add(wake);
    if (this.signal) wake();
    return () => this.wakers.delete(wake);
  }

  dispose(): void {
    for (const [sig, handler] of this.handlers) process.removeListener(sig, handler);
    this.handlers.clear();
    this.wakers.clear();
  }
}
