// What `pmq stat` prints: the JSON document, or the human fields.
import type { PosixQueue } from '../../ipc/posix/mqueue.js';
import { groupName, userName } from '../../ipc/users.js';
import { formatMode, printJson } from '../../output/json.js';
import { writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import { formatTime, renderFields } from '../../output/table.js';

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
      ['name', st.name],
      ['owner', `${userName(st.uid)} (uid ${st.uid})`],
      ['group', `${groupName(st.gid)} (gid ${st.gid})`],
      ['mode', formatMode(st.mode)],
      ['max messages', st.maxmsg],
      ['message size', st.msgsize],
      ['messages', st.curmsgs],
      ['bytes', st.size === null ? '- (mount /dev/mqueue to see it)' : st.size],
      ['flags', st.nonblock ? 'O_NONBLOCK' : '0'],
      ['last change', formatTime(st.mtime)],
    ]),
  );
}
