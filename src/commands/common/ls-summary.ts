// `ls --summary` (like ipcs -u): totals per kind.
import type { PosixKind } from '../../ipc/posix/names.js';
import { type Kind, pageSize, readObjects } from '../../ipc/sysv/procfs.js';
import type { Summary } from '../../ipc/sysv/usage.js';
import { humanBytes } from '../../output/table.js';
import type { Kinds, Report } from './ls-report.js';

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

function summaryText(s: Summary, kinds: readonly Kind[]): string {
  const page = pageSize();
  const lines: string[] = [];
  if (kinds.includes('msgq')) {
    lines.push(`msgq  ${plural(s.msgq.queues, 'queue')}, ${plural(s.msgq.messages, 'message')}, ${humanBytes(s.msgq.bytes)} in messages`);
  }
  if (kinds.includes('shm')) {
    lines.push(
      `shm   ${plural(s.shm.segments, 'segment')}, ${plural(s.shm.pages, 'page')} allocated (${humanBytes(s.shm.pages * page)}), ` +
        `${s.shm.resident} resident, ${s.shm.swapped} swapped`,
    );
  }
  if (kinds.includes('sem')) lines.push(`sem   ${plural(s.sem.sets, 'set')}, ${plural(s.sem.semaphores, 'semaphore')}`);
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}

interface PosixSummary {
  pmq?: { queues: number; bytes: number };
  pshm?: { segments: number; bytes: number };
  psem?: { semaphores: number };
}

async function posixSummary(kinds: readonly PosixKind[]): Promise<() => PosixSummary> {
  if (kinds.length === 0) return () => ({});
  const { readPosixObjects } = await import('../../ipc/posix/listing.js');
  return () => {
    const objects = readPosixObjects(kinds);
    const s: PosixSummary = {};
    if (kinds.includes('pmq')) s.pmq = { queues: 0, bytes: 0 };
    if (kinds.includes('pshm')) s.pshm = { segments: 0, bytes: 0 };
    if (kinds.includes('psem')) s.psem = { semaphores: 0 };
    for (const o of objects) {
      if (o.kind === 'pmq') {
        s.pmq!.queues++;
        s.pmq!.bytes += o.usedbytes;
      } else if (o.kind === 'pshm') {
        s.pshm!.segments++;
        s.pshm!.bytes += o.size;
      } else s.psem!.semaphores++;
    }
    return s;
  };
}

function posixSummaryText(s: PosixSummary): string {
  const lines: string[] = [];
  if (s.pmq) lines.push(`pmq   ${plural(s.pmq.queues, 'queue')}, ${humanBytes(s.pmq.bytes)} in messages`);
  if (s.pshm) lines.push(`pshm  ${plural(s.pshm.segments, 'segment')}, ${humanBytes(s.pshm.bytes)}`);
  if (s.psem) lines.push(`psem  ${plural(s.psem.semaphores, 'semaphore')}`);
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}

export async function summaryReport(kinds: Kinds): Promise<Report> {
  const { summarize } = await import('../../ipc/sysv/usage.js');
  const summary = () => summarize(readObjects(kinds.sysv), pageSize());
  const posix = await posixSummary(kinds.posix);
  return {
    json: () => {
      const s = summary();
      return { ...Object.fromEntries(kinds.sysv.map((k) => [k, s[k]])), ...posix() };
    },
    text: () => summaryText(summary(), kinds.sysv) + posixSummaryText(posix()),
    serialize: (v, indent) => JSON.stringify(v, null, indent),
  };
}
