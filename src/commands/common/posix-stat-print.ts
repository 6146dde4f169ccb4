// What `pmq stat` and `pshm stat` print: the JSON document, or the human
// fields, which begin with the same name, owner, group and mode.
import type { PosixQueue } from '../../ipc/posix/mqueue.js';
import type { PosixSegment } from '../../ipc/posix/shm.js';
import { groupName, userName } from '../../ipc/users.js';
import { formatMode, printJson } from '../../output/json.js';
import { writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import { formatTime, humanBytes, renderFields } from '../../output/table.js';

type Field = [string, string | number];

/** The fields every POSIX object has, first in its stat. */
function ownerFields(st: { name: string; uid: number; gid: number; mode: number }): Field[] {
  return [
    ['name', st.name],
    ['owner', `${userName(st.uid)} (uid ${st.uid})`],
    ['group', `${groupName(st.gid)} (gid ${st.gid})`],
    ['mode', formatMode(st.mode)],
  ];
}

export function printPosixQueueStat(st: ReturnType<PosixQueue['stat']>): void {
  if (settings.json) {
    printJson({
      name: st.name,
      mode: formatMode(st.mode),
      uid: st.uid,
      gid: st.gid,
      maxmsg: st.maxmsg,
      msgsize: st.msgsize,
      curmsgs: st.curmsgs,
      flags: st.nonblock ? ['O_NONBLOCK'] : [],
      usedbytes: st.size,
      mtime: st.mtime,
      ctime: st.ctime,
    });
    return;
  }
  writeStdout(
    renderFields([
      ...ownerFields(st),
      ['max messages', st.maxmsg],
      ['message size', st.msgsize],
      ['messages', st.curmsgs],
      ['bytes', st.size === null ? '- (mount /dev/mqueue to see it)' : st.size],
      ['flags', st.nonblock ? 'O_NONBLOCK' : '0'],
      ['last change', formatTime(st.mtime)],
    ]),
  );
}

export function printPosixSegmentStat(st: ReturnType<PosixSegment['stat']>): void {
  if (settings.json) {
    printJson({ name: st.name, mode: formatMode(st.mode), uid: st.uid, gid: st.gid, size: st.size, atime: st.atime, mtime: st.mtime, ctime: st.ctime });
    return;
  }
  writeStdout(
    renderFields([
      ...ownerFields(st),
      ['size', `${st.size} (${humanBytes(st.size)})`],
      ['last access', formatTime(st.atime)],
      ['last change', formatTime(st.mtime)],
    ]),
  );
}
