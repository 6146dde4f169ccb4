// How many datagrams the kernel dropped for one UDP socket because its
// receive queue was full: the "drops" column of /proc/net/udp (and udp6),
// found by the socket's inode. A burst faster than the reader loses
// datagrams silently; this is how `udp listen` can say how many.
import { fstatSync, readFileSync } from 'node:fs';

/** The inode of the socket behind `fd`, the key /proc/net/udp lists it by. */
export function socketInode(fd: number): number | null {
  try {
    return fstatSync(fd).ino;
  } catch {
    return null;
  }
}

/**
 * Drops counted for the socket with `inode`, or null when /proc does not
 * list it (not UDP, or /proc not mounted). The columns are found by their
 * header names; "tx_queue rx_queue" and "tr tm->when" are one field each
 * in the rows, so the header is re-joined to match.
 */
export function udpDrops(inode: number): number | null {
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    const header = lines[0]!.trim().replace('tx_queue rx_queue', 'tx_queue:rx_queue').replace('tr tm->when', 'tr:tm->when').split(/\s+/);
    const inodeAt = header.indexOf('inode');
    const dropsAt = header.indexOf('drops');
    if (inodeAt < 0 || dropsAt < 0) continue;
    for (const line of lines.slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[inodeAt] === String(inode)) return Number(f[dropsAt]);
    }
  }
  return null;
}
