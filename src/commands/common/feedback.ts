// What a person sees on a terminal while a socket command waits or moves
// bytes: a spinner while a server has no client, a listener no datagram yet,
// or a client is still connecting; with --progress, bytes and rate while the
// bytes flow and a summary at the end. Every piece stops itself before
// anything else is written, and none of it appears off a terminal or under --json.
// (spinnerWhileWaiting is the same for a message queue transfer that waits.)
import type { SockAddr } from '../../ipc/net/address.js';
import type { ServeEvents } from '../../ipc/net/stream.js';
import { pollProgress, progressWanted, type Progress } from '../../output/progress.js';
import { startSpinner, type SpinnerHandle } from '../../output/spinner.js';

/** A stream server's spinner (no client yet) and --progress (bytes from clients). */
export class ServeFeedback {
  private spinner: SpinnerHandle | null = null;
  private progress: Progress | null = null;
  private moved: () => number = () => 0;
  private clients = 0;
  private where = '';
  private readonly showProgress: boolean;

  constructor(
    private readonly op: string,
    progress: boolean | undefined,
    private readonly keepOpen: boolean,
    private readonly format: (a: SockAddr) => string,
  ) {
    this.showProgress = progressWanted(progress);
  }

  /** The server's events with the feedback woven in (the spinner goes before any report). */
  wrap(events: ServeEvents): ServeEvents {
    return {
      listening: (local) => {
        events.listening?.(local);
        this.where = this.format(local);
        this.waitForClient();
      },
      accept: (conn, peer) => {
        this.spinner?.stop();
        this.clients++;
        // Timed from the first client, not from when we started listening.
        this.progress ??= pollProgress(this.op, () => this.moved(), this.showProgress);
        events.accept?.(conn, peer);
      },
      data: events.data,
      close: (conn, info) => {
        events.close?.(conn, info);
        this.clients--;
        // Between clients of --keep-open: wait again (the progress line, if
        // any, stays instead and shows the rate dropping).
        if (this.keepOpen && this.clients === 0 && !this.progress) this.waitForClient();
      },
    };
  }

  /** For ServeOptions.meter. */
  readonly meter = (moved: () => number) => {
    this.moved = moved;
  };

  /** At the end, however it ends: erase the spinner, print the summary. */
  end(): void {
    this.spinner?.stop();
    this.progress?.finish();
  }

  private waitForClient(): void {
    this.spinner?.stop();
    this.spinner = startSpinner(`waiting for a client on ${this.where}`);
  }
}

/** A client's spinner while connecting, then --progress while bytes flow. */
export class ConnectFeedback {
  private readonly spinner: SpinnerHandle;
  private progress: Progress | null = null;
  private moved: () => { sent: number; received: number } = () => ({ sent: 0, received: 0 });
  private readonly showProgress: boolean;

  constructor(
    private readonly op: string,
    where: string,
    progress: boolean | undefined,
  ) {
    this.showProgress = progressWanted(progress);
    this.spinner = startSpinner(`connecting to ${where}`);
  }

  /** Call first thing in the connected callback. */
  connected(): void {
    this.spinner.stop();
  }

  /** For ConnectOptions.meter: the transfer starts now. */
  readonly meter = (moved: () => { sent: number; received: number }) => {
    this.moved = moved;
    this.progress = pollProgress(
      this.op,
      () => {
        const m = this.moved();
        return m.sent + m.received;
      },
      this.showProgress,
    );
  };

  /** At the end, however it ends. */
  end(): void {
    this.spinner.stop();
    if (this.progress) {
      const { sent, received } = this.moved();
      this.progress.finish(`${sent} sent, ${received} received`);
    }
  }
}

/** A datagram listener's spinner until the first datagram. */
export function waitingForDatagrams(): { listening(where: string): void; stop(): void } {
  let spinner: SpinnerHandle | null = null;
  let stopped = false;
  return {
    listening(where: string) {
      if (!stopped) spinner = startSpinner(`waiting for datagrams on ${where}`);
    },
    stop() {
      stopped = true;
      spinner?.stop();
    },
  };
}

/** A spinner while a transfer waits (only on a terminal). */
export function spinnerWhileWaiting(text: string): (waiting: boolean) => void {
  let spinner: { stop(): void } | null = null;
  return (waiting) => {
    spinner?.stop();
    spinner = waiting ? startSpinner(text) : null;
  };
}
