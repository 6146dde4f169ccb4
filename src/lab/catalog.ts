// The labs by name, with the one line `ipcctl lab` shows for each. Loading
// this file loads no lab and no ffi-rs: each module is imported on demand,
// by the command (to run a lab) and by the worker (to play a role in one).
import type { LabModule } from './runner.js';

export interface LabEntry {
  name: string;
  summary: string;
  load: () => Promise<LabModule>;
}

export const labs: LabEntry[] = [
  { name: 'race', summary: 'processes add and subtract on a shared counter: lost updates, then --lock', load: () => import('./race.js') },
  { name: 'prodcons', summary: 'bounded buffer in shared memory with empty/full/mutex semaphores', load: () => import('./prodcons.js') },
  { name: 'deadlock', summary: 'two processes take two semaphores in opposite order; --atomic takes both at once', load: () => import('./deadlock.js') },
  { name: 'msgq-server', summary: 'one server, N clients, replies typed by pid on one queue; --thief steals them', load: () => import('./msgq-server.js') },
  { name: 'heartbeat', summary: 'a monitor polls workers through event and reply semaphores; --stall one', load: () => import('./heartbeat.js') },
  { name: 'rpc', summary: 'asynchronous and synchronous message and request (RPC) side by side: who blocks, how long', load: () => import('./rpc.js') },
  { name: 'pipeline', summary: 'camera case study: trigger, capture, process, write, mail, joined by queues', load: () => import('./pipeline.js') },
];

export function findLab(name: string): LabEntry | undefined {
  return labs.find((l) => l.name === name);
}
