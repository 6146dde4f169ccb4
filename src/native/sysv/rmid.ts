// shmctl and semctl for IPC_RMID only: all `ipcctl rm` needs. The full
// bindings live with the shm and sem slices; this keeps removal free of them.
import { IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { IPC_RMID } from './ipc.js';

const shmctl = bind('shmctl', C.int, [C.int, C.int, C.ptr]);
// semctl is variadic; IPC_RMID takes no fourth argument, and on the ABIs we
// run on a variadic int call passes its fixed arguments as a plain call does.
const semctl = bind('semctl', C.int, [C.int, C.int, C.int]);

/** Mark a segment for removal (it goes when the last process detaches). */
export function shmRemove(id: number): void {
  const r = shmctl.call(id, IPC_RMID, 0);
  if (r.value === -1) throw new IpcError(r.errno, 'shmctl IPC_RMID', String(id));
}

/** Remove a semaphore set; processes waiting on it wake with EIDRM. */
export function semRemove(id: number): void {
  const r = semctl.call(id, 0, IPC_RMID);
  if (r.value === -1) throw new IpcError(r.errno, 'semctl IPC_RMID', String(id));
}
