// What `msgq stat`, `shm stat` and `sem stat` print: the JSON document (the
// contract's field names, in the kernel struct's order) or the human fields.
// The commands fetch the stat; these only print it.
import type { MessageQueue } from '../../ipc/sysv/msgq.js';
import type { SharedMemory } from '../../ipc/sysv/shm.js';
import type { SemaphoreSet } from '../../ipc/sysv/sem.js';
import { printJson } from '../../output/json.js';
import { writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import { formatTime, humanBytes, renderFields, renderTable } from '../../output/table.js';
import { permJson, permRows } from './perm-view.js';

type MsqStat = ReturnType<MessageQueue['stat']>;
type ShmStat = ReturnType<SharedMemory['stat']>;
type SemStat = ReturnType<SemaphoreSet['stat']>;
type SemDetails = ReturnType<SemaphoreSet['details']>;

export function printQueueStat(st: MsqStat): void {
  if (settings.json) {
    const { qnum, cbytes, qbytes, lspid, lrpid, stime, rtime, ctime } = st;
    printJson({ ...permJson(st), qnum, cbytes, qbytes, lspid, lrpid, stime, rtime, ctime });
    return;
  }
  writeStdout(
    renderFields([
      ...permRows(st),
      ['messages', st.qnum],
      ['bytes', st.cbytes],
      ['max bytes', st.qbytes],
      ['last send pid', st.lspid],
      ['last recv pid', st.lrpid],
      ['last send', formatTime(st.stime)],
      ['last recv', formatTime(st.rtime)],
      ['last change', formatTime(st.ctime)],
    ]),
  );
}

export function printSegmentStat(st: ShmStat): void {
  if (settings.json) {
    const { size, nattch, cpid, lpid, atime, dtime, ctime, locked, removed } = st;
    printJson({ ...permJson(st), size, nattch, cpid, lpid, atime, dtime, ctime, locked, removed });
    return;
  }
  writeStdout(
    renderFields([
      ...permRows(st),
      ['size', `${st.size} (${humanBytes(st.size)})`],
      ['attached', st.nattch],
      ['locked', st.locked ? 'yes' : 'no'],
      ['creator pid', st.cpid],
      ['last pid', st.lpid],
      ['last attach', formatTime(st.atime)],
      ['last detach', formatTime(st.dtime)],
      ['last change', formatTime(st.ctime)],
      ...(st.removed ? ([['status', 'removed: gone when the last user detaches']] as Array<[string, string]>) : []),
    ]),
  );
}

/** `details` is read only for the human view (one row per semaphore). */
export function printSetStat(st: SemStat, details: () => SemDetails): void {
  if (settings.json) {
    printJson({ ...permJson(st), nsems: st.nsems, otime: st.otime, ctime: st.ctime, values: st.values });
    return;
  }
  writeStdout(
    renderFields([...permRows(st), ['semaphores', st.nsems], ['last op', formatTime(st.otime)], ['last change', formatTime(st.ctime)]]) +
      '\n' +
      renderTable(details(), [
        { header: 'SEMNUM', value: (d) => d.num, align: 'right' },
        { header: 'VALUE', value: (d) => d.value, align: 'right' },
        { header: 'NCNT', value: (d) => d.ncnt, align: 'right' },
        { header: 'ZCNT', value: (d) => d.zcnt, align: 'right' },
        { header: 'PID', value: (d) => d.pid, align: 'right' },
      ]),
  );
}
