// Struct layouts of the C structures this program hands to the kernel, for
// x86_64 glibc. They are not guessed: test/native-layouts.test.ts compiles a
// C probe against the system headers and compares every offset and size here.
// Field names are the C names.

export interface Layout {
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
}

export const ipc_perm = {
  size: 48,
  fields: { __key: 0, uid: 4, gid: 8, cuid: 12, cgid: 16, mode: 20, __seq: 24 },
} as const satisfies Layout;

export const msqid_ds = {
  size: 120,
  fields: {
    msg_perm: 0,
    msg_stime: 48,
    msg_rtime: 56,
    msg_ctime: 64,
    __msg_cbytes: 72,
    msg_qnum: 80,
    msg_qbytes: 88,
    msg_lspid: 96,
    msg_lrpid: 100,
  },
} as const satisfies Layout;

export const shmid_ds = {
  size: 112,
  fields: {
    shm_perm: 0,
    shm_segsz: 48,
    shm_atime: 56,
    shm_dtime: 64,
    shm_ctime: 72,
    shm_cpid: 80,
    shm_lpid: 84,
    shm_nattch: 88,
  },
} as const satisfies Layout;

export const semid_ds = {
  size: 104,
  fields: { sem_perm: 0, sem_otime: 48, sem_ctime: 64, sem_nsems: 80 },
} as const satisfies Layout;

export const sembuf = {
  size: 6,
  fields: { sem_num: 0, sem_op: 2, sem_flg: 4 },
} as const satisfies Layout;

export const timespec = {
  size: 16,
  fields: { tv_sec: 0, tv_nsec: 8 },
} as const satisfies Layout;

// struct msginfo / shminfo / seminfo are read from /proc/sys/kernel instead.

export const sockaddr_in = {
  size: 16,
  fields: { sin_family: 0, sin_port: 2, sin_addr: 4 },
} as const satisfies Layout;

export const sockaddr_in6 = {
  size: 28,
  fields: { sin6_family: 0, sin6_port: 2, sin6_flowinfo: 4, sin6_addr: 8, sin6_scope_id: 24 },
} as const satisfies Layout;

export const sockaddr_un = {
  size: 110,
  fields: { sun_family: 0, sun_path: 2 },
} as const satisfies Layout;

export const sockaddr_storage = { size: 128, fields: { ss_family: 0 } } as const satisfies Layout;

export const iovec = {
  size: 16,
  fields: { iov_base: 0, iov_len: 8 },
} as const satisfies Layout;

export const msghdr = {
  size: 56,
  fields: {
    msg_name: 0,
    msg_namelen: 8,
    msg_iov: 16,
    msg_iovlen: 24,
    msg_control: 32,
    msg_controllen: 40,
    msg_flags: 48,
  },
} as const satisfies Layout;

export const mmsghdr = {
  size: 64,
  fields: { msg_hdr: 0, msg_len: 56 },
} as const satisfies Layout;

export const pollfd = {
  size: 8,
  fields: { fd: 0, events: 4, revents: 6 },
} as const satisfies Layout;

export const linger = {
  size: 8,
  fields: { l_onoff: 0, l_linger: 4 },
} as const satisfies Layout;

// POSIX message queue attributes (<mqueue.h>): four longs and reserved space.
export const mq_attr = {
  size: 64,
  fields: { mq_flags: 0, mq_maxmsg: 8, mq_msgsize: 16, mq_curmsgs: 24 },
} as const satisfies Layout;

/** Every layout above with the C type it describes, for the probe test. */
export const allLayouts: Record<string, { ctype: string; layout: Layout }> = {
  ipc_perm: { ctype: 'struct ipc_perm', layout: ipc_perm },
  msqid_ds: { ctype: 'struct msqid_ds', layout: msqid_ds },
  shmid_ds: { ctype: 'struct shmid_ds', layout: shmid_ds },
  semid_ds: { ctype: 'struct semid_ds', layout: semid_ds },
  sembuf: { ctype: 'struct sembuf', layout: sembuf },
  timespec: { ctype: 'struct timespec', layout: timespec },
  sockaddr_in: { ctype: 'struct sockaddr_in', layout: sockaddr_in },
  sockaddr_in6: { ctype: 'struct sockaddr_in6', layout: sockaddr_in6 },
  sockaddr_un: { ctype: 'struct sockaddr_un', layout: sockaddr_un },
  sockaddr_storage: { ctype: 'struct sockaddr_storage', layout: sockaddr_storage },
  iovec: { ctype: 'struct iovec', layout: iovec },
  msghdr: { ctype: 'struct msghdr', layout: msghdr },
  mmsghdr: { ctype: 'struct mmsghdr', layout: mmsghdr },
  pollfd: { ctype: 'struct pollfd', layout: pollfd },
  linger: { ctype: 'struct linger', layout: linger },
  mq_attr: { ctype: 'struct mq_attr', layout: mq_attr },
};
