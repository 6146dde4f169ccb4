// What an --exec server is given: its listener, its program, and who hears
// its events (shared by the TypeScript path, exec.ts, and the C engine's, exec-engine.ts).
import type { SockAddr } from '../../native/net/sockaddr.js';
import type { ExitStatus } from './children.js';
import type { Program } from './program.js';
import type { ListenerOptions, ServeOptions } from './stream.js';

export interface ExecEvents {
  listening?(local: SockAddr): void;
  accept?(conn: number, peer: SockAddr): void;
  /** One line the child wrote to its stderr (without the newline). */
  stderr?(conn: number, peer: SockAddr, line: string): void;
  exit?(conn: number, peer: SockAddr, pid: number, status: ExitStatus): void;
  close?(conn: number, info: { sent: number; error?: string }): void;
}

export interface ExecServeOptions extends ListenerOptions, Pick<ServeOptions, 'linger' | 'keepOpen'> {
  program: Program;
  events: ExecEvents;
}
