// Running a command the user named (sem lock -- CMD) as a child that shares
// our stdin, stdout and stderr, and passing it the signals that would end
// us: it decides how to end, and we learn its status. The result is its exit
// code, or 128 + the signal number that killed it, as a shell reports it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OperationError } from '../errors.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function runChild(argv: string[], what: string): Promise<number> {
  const [file, ...args] = argv;
  if (file === undefined) throw new OperationError(`${what}: no command to run`, 2);
  const child = spawn(file, args, { stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        // As a shell says it: 127 not found, 126 found but not runnable.
        if (e.code === 'ENOENT') reject(new OperationError(`${what}: ${file}: ENOENT, command not found`, 127));
        else if (e.code === 'EACCES') reject(new OperationError(`${what}: ${file}: EACCES, not executable`, 126));
        else reject(new OperationError(`${what}: ${file}: ${e.code ?? e.message}`, 126));
      });
      child.once('exit', (code, signal) => {
        if (signal) resolve(128 + ((constants.signals as Record<string, number>)[signal] ?? 0));
        else resolve(code ?? 1);
      });
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
