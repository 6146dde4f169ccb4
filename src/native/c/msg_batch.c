/*
 * Batches of System V message-queue calls, for ipcctl's message loops.
 *
 * Why C at all: ipcctl calls libc through ffi-rs, and one ffi-rs call costs
 * 4-5 us with msgsnd's four arguments, while the kernel's own work for a
 * 1 KiB message is about 1 us. System V has no call that moves several
 * messages, so `msgq send --lines` and `msgq recv --all/--count` hand a
 * whole batch to these loops in one FFI call. They only loop: no transfer
 * policy lives here (only how a wait is paced on the CPU, and when a loop
 * that writes its own output writes, below); whatever needs judging or
 * wording (a record too long, the end of input, a failed write and what to
 * put back) goes back to the caller. Each loop stops at the first failure
 * and reports its errno, so the caller knows exactly which messages went
 * and why. With a descriptor to read or write, one call can serve a whole
 * stream (msgsnd_read, msgrcv_write).
 *
 * Waiting in the kernel. A loop called without IPC_NOWAIT blocks inside
 * msgsnd/msgrcv, called on a worker thread (ffi-rs's runInNewThread) and run
 * on the stream's own thread (below), for as many messages as the batch holds: a producer and a consumer sharing a small
 * queue then wake each other in the kernel, not through one thread round
 * trip per message. The caller must be able to end such a wait (a signal,
 * a deadline, messages held too long): it passes a struct wait_ctl, in
 * which the loop publishes its thread id and how many messages it holds,
 * and ipcctl_wake() sets `stop` and sends the thread SIGURG. SIGURG gets a
 * handler that does nothing, installed by ipcctl_wait_init(), so that the
 * blocked call returns EINTR (msgsnd and msgrcv are never restarted after
 * a handler, SA_RESTART or not: signal(7)); the loop sees `stop` and
 * returns what it has. (SIGURG's default action is to be ignored, which
 * would not interrupt anything, and Node does not use it. Should someone
 * else have a SIGURG handler, it is left alone and ipcctl polls instead.)
 * A wake can land just before the thread enters the kernel; the caller
 * repeats it until the call returns.
 *
 * Ping-pong on one CPU. When both ends of a small queue share a CPU (the
 * scheduler puts a waker and its wakee together often, and always when the
 * other CPU is busy), every msgsnd to a waiting receiver and every msgrcv
 * that frees room for a waiting sender preempts the caller at once: two
 * context switches per message on both ends, several times the kernel's
 * own work (measured: 100,000 x 1 KiB through a 16 KiB queue on one CPU,
 * 73,000 switches per end and 0.8 s; with SCHED_BATCH 5,900 and 0.3 s).
 * SCHED_BATCH is SCHED_OTHER (same nice, same share of the CPU) without
 * wake-up preemption: a woken end waits for the running one to block, and
 * each then moves a queueful per switch. But a SCHED_BATCH thread woken on
 * a CPU that a busy program holds also waits for that program's slice to
 * end (a millisecond or more), for each queueful. So a waiting loop uses it
 * only while it pays (struct pace, kept across the calls of one stream):
 * a run of waits that each ended within QUICK_NS with at most one message
 * moved since the one before is ping-pong, and turns SCHED_BATCH on; waits
 * of LATE_NS or more under it mean a contended CPU, and turn it off again,
 * for a cool-down that doubles each time. The thread is switched only
 * inside the loop and always goes back to SCHED_OTHER before it returns
 * (without a thread of its own the loop runs on a pool thread, which runs
 * other work after); a thread under any other policy is left as it is. A wait is told from a call that did not
 * wait by trying IPC_NOWAIT first: one cheap failed call per wait.
 *
 * Built by `npm run build` when a C compiler is present; without it ipcctl
 * makes the same calls one FFI call at a time (src/native/msg-batch.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define MTYPE_SIZE sizeof(long)

/* How a stream's waiting loops pace themselves (see the comment at the top). */
struct pace {
    int32_t batch;    /* 1: run the loop's thread as SCHED_BATCH */
    int32_t quick;    /* ping-pong waits in a row (batch off) */
    int32_t late;     /* late waits, less one per timely wait (batch on) */
    int32_t cooldown; /* waits to go before ping-pong may count again */
    int32_t backoff;  /* the next cool-down */
};

struct runner;

/* Shared with the JS side (msg-batch.ts WaitControl): eight int32, then a pointer. */
struct wait_ctl {
    int32_t tid;  /* thread in the loop now, 0 when none */
    int32_t stop; /* set by ipcctl_wake: return at the next chance */
    int32_t held; /* messages taken by a receive loop so far */
    struct pace pace;
    struct runner *runner; /* the stream's loop thread, once started; JS only zeroes it */
    int32_t waiting;       /* the loop is blocked for room or for a message now (the spinner) */
    int32_t unused;
};

#define QUICK_NS 200000L   /* a wait this short was the peer's turn on the CPU */
#define PING_PONG 16       /* quick waits in a row that turn SCHED_BATCH on */
#define LATE_NS 1000000L   /* a wait this long under SCHED_BATCH: a contended CPU */
#define LATE_WAITS 3       /* late waits (net) that turn it off */
#define FIRST_BACKOFF 256  /* waits of the first cool-down */
#define LAST_BACKOFF 65536 /* and the longest */

static void ignore_signal(int sig)
{
    (void)sig;
}

/* Install the do-nothing SIGURG handler (once; an existing handler is kept). 1 when installed. */
int ipcctl_wait_init(void)
{
    struct sigaction old, sa;
    if (sigaction(SIGURG, NULL, &old) == -1)
        return 0;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == ignore_signal)
        return 1;
    if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
        return 0; /* someone else's handler: leave it (the caller then polls) */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ignore_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked msgrcv must return EINTR */
    return sigaction(SIGURG, &sa, NULL) == 0;
}

/* Ask the loop using `ctl` to return now. 1 when a thread was signalled. */
int ipcctl_wake(struct wait_ctl *ctl)
{
    __atomic_store_n(&ctl->stop, 1, __ATOMIC_SEQ_CST);
    int32_t tid = __atomic_load_n(&ctl->tid, __ATOMIC_SEQ_CST);
    if (tid == 0)
        return 0;
    return syscall(SYS_tgkill, getpid(), tid, SIGURG) == 0;
}

/* Make this thread SCHED_BATCH if it is SCHED_OTHER; 1 when it was switched. */
static int batch_policy_on(void)
{
    struct sched_param sp = {0};
    if (sched_getscheduler(0) != SCHED_OTHER)
        return 0;
    return sched_setscheduler(0, SCHED_BATCH, &sp) == 0;
}

static void batch_policy_off(void)
{
    struct sched_param sp = {0};
    sched_setscheduler(0, SCHED_OTHER, &sp);
}

/* A loop's view of its wait_ctl: NULL for a loop that does not wait. */
struct loop {
    struct wait_ctl *ctl;
    int switched; /* this thread is SCHED_BATCH by our doing */
    long moved;   /* messages moved without a wait since the last wait */
};

static void enter(struct loop *l, struct wait_ctl *ctl, int msgflg)
{
    l->ctl = (msgflg & IPC_NOWAIT) ? NULL : ctl;
    l->switched = 0;
    l->moved = 0;
    if (!ctl)
        return;
    __atomic_store_n(&ctl->held, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ctl->tid, (int32_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    if (l->ctl && ctl->pace.batch)
        l->switched = batch_policy_on();
}

static void leave(struct loop *l, struct wait_ctl *ctl)
{
    if (l->switched)
        batch_policy_off();
    if (ctl)
        __atomic_store_n(&ctl->tid, 0, __ATOMIC_SEQ_CST);
}

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Count one wait that ended with a message after `ns`, `moved` messages after the one before
 * (waits ended by a wake or a failure say nothing about the CPU and are not counted). */
static void paced(struct loop *l, long ns)
{
    struct pace *p = &l->ctl->pace;
    long moved = l->moved;
    l->moved = 0;
    if (!p->batch) {
        if (p->cooldown > 0) {
            p->cooldown--;
            return;
        }
        if (ns >= QUICK_NS || moved > 1) {
            p->quick = 0;
            return;
        }
        if (++p->quick < PING_PONG)
            return;
        p->batch = 1;
        p->quick = p->late = 0;
        l->switched = batch_policy_on();
        return;
    }
    if (ns < LATE_NS) {
        if (p->late > 0)
            p->late--;
        return;
    }
    if (++p->late < LATE_WAITS)
        return;
    p->batch = 0;
    p->late = 0;
    p->cooldown = p->backoff = p->backoff ? (p->backoff < LAST_BACKOFF ? 2 * p->backoff : LAST_BACKOFF) : FIRST_BACKOFF;
    if (l->switched)
        batch_policy_off();
    l->switched = 0;
}

/* One msgsnd. A waiting loop tries without waiting first, so that it knows when it waits
 * and for how long. 0, or -1 with errno. */
static int send_one(struct loop *l, int msqid, const char *msg, size_t len, int msgflg)
{
    if (!l->ctl)
        return msgsnd(msqid, msg, len, msgflg);
    if (msgsnd(msqid, msg, len, msgflg | IPC_NOWAIT) == 0) {
        l->moved++;
        return 0;
    }
    if (errno != EAGAIN)
        return -1;
    long t0 = now_ns();
    __atomic_store_n(&l->ctl->waiting, 1, __ATOMIC_RELAXED);
    int r = msgsnd(msqid, msg, len, msgflg);
    __atomic_store_n(&l->ctl->waiting, 0, __ATOMIC_RELAXED);
    if (r == -1)
        return -1;
    paced(l, now_ns() - t0);
    return 0;
}

/* One msgrcv, the same way. Its size, or -1 with errno. */
static ssize_t receive_one(struct loop *l, int msqid, char *msg, size_t maxsize, long msgtyp, int msgflg)
{
    if (!l->ctl)
        return msgrcv(msqid, msg, maxsize, msgtyp, msgflg);
    ssize_t got = msgrcv(msqid, msg, maxsize, msgtyp, msgflg | IPC_NOWAIT);
    if (got != -1) {
        l->moved++;
        return got;
    }
    if (errno != ENOMSG)
        return -1;
    long t0 = now_ns();
    __atomic_store_n(&l->ctl->waiting, 1, __ATOMIC_RELAXED);
    got = msgrcv(msqid, msg, maxsize, msgtyp, msgflg);
    int e = errno;
    __atomic_store_n(&l->ctl->waiting, 0, __ATOMIC_RELAXED);
    errno = e;
    if (got != -1)
        paced(l, now_ns() - t0);
    return got;
}

static int stopping(struct wait_ctl *ctl)
{
    return ctl && __atomic_load_n(&ctl->stop, __ATOMIC_SEQ_CST);
}

/* Send base[start, start + len) as one message of type `mtype`, in place when 8 bytes of
 * the block are before it (they are kept aside and put back), else through `scratch`;
 * EINTR is retried unless woken. 0, or -1 with *stopped = the errno (EINTR when woken). */
static int send_record(struct loop *l, int msqid, long mtype, char *base, size_t start, size_t len,
                       char *scratch, int msgflg, int *stopped)
{
    char saved[MTYPE_SIZE];
    char *msg = start >= MTYPE_SIZE ? base + start - MTYPE_SIZE : scratch;
    if (msg == scratch)
        memcpy(scratch + MTYPE_SIZE, base + start, len);
    memcpy(saved, msg, MTYPE_SIZE);
    memcpy(msg, &mtype, MTYPE_SIZE);
    int r;
    for (;;) {
        if (stopping(l->ctl)) {
            *stopped = EINTR;
            r = -1;
            break;
        }
        if ((r = send_one(l, msqid, msg, len, msgflg)) == 0)
            break;
        if (errno != EINTR) {
            *stopped = errno;
            break;
        }
    }
    memcpy(msg, saved, MTYPE_SIZE);
    return r;
}

/*
 * Send records base[spans[2i] .. spans[2i] + spans[2i+1]) for i in [0, count),
 * each as one message of type `mtype`. msgsnd wants the type in the 8 bytes
 * before the text: a record with 8 bytes of the block before it is sent in
 * place, those bytes (the end of the record before, already sent) kept
 * aside and put back at once, which saves copying every text; one nearer
 * the block's start is copied into `scratch` (MTYPE_SIZE + the largest
 * record). The block is left as it was. Returns how many were sent; when
 * fewer than `count`, *stopped is the errno of the call that failed (EINTR
 * when woken through `ctl`, which may be NULL), else 0.
 */
static long msgsnd_spans(int msqid, long mtype, char *base,
                         const uint32_t *spans, long count, char *scratch,
                         int msgflg, int *stopped, struct wait_ctl *ctl)
{
    long i;
    struct loop l;
    *stopped = 0;
    enter(&l, ctl, msgflg);
    for (i = 0; i < count; i++)
        if (send_record(&l, msqid, mtype, base, spans[2 * i], spans[2 * i + 1], scratch, msgflg, stopped) != 0)
            break;
    leave(&l, ctl);
    return i;
}

/*
 * Read records (ended by `sep`) from `fd` into `block` and send each as it
 * is complete, for `msgq send --lines/--null` from a descriptor: one call
 * for the whole stream, on the stream's thread, so that reading, splitting
 * and sending never wait for JavaScript (which cost a tenth of the
 * sender's time, once per read). It keeps the layout of msg-batch.ts
 * RecordBatch: block[0, filled) read, records from `start` on not sent yet,
 * the partial record moved to the front before each read. It returns, with
 * the state in *st, whatever TypeScript must judge or word: the end of input
 * (a last record may lack its separator), a record longer than `limit`
 * (complete, or partial with more than `limit` bytes in), a full block, a
 * failed read (st->read_errno) or msgsnd (*stopped), or a wake (*stopped =
 * EINTR). Only waiting loops (no IPC_NOWAIT) come here. A read that finds
 * nothing on a non-blocking descriptor waits in poll(2); a read or poll
 * that is waiting ends with EINTR at a wake like msgsnd does. Returns how
 * many records went.
 */
struct read_state {
    int64_t filled;     /* bytes in the block */
    int64_t start;      /* where the first record not sent starts */
    int64_t ended;      /* read returned 0 */
    int64_t read_errno; /* errno of a failed read, else 0 */
};

static long msgsnd_read(int msqid, long mtype, int fd, char *block, size_t size, int sep, size_t limit,
                        char *scratch, int msgflg, struct read_state *st, int *stopped, struct wait_ctl *ctl)
{
    struct loop l;
    long sent = 0;
    size_t filled = (size_t)st->filled, start = (size_t)st->start;
    *stopped = 0;
    st->read_errno = 0;
    enter(&l, ctl, msgflg);
    for (;;) {
        char *at, *end;
        while ((at = block + start) < block + filled && (end = memchr(at, sep, filled - start))) {
            size_t len = (size_t)(end - at);
            if (len > limit)
                goto out;
            if (send_record(&l, msqid, mtype, block, start, len, scratch, msgflg, stopped) != 0)
                goto out;
            start += len + 1;
            sent++;
        }
        if (filled - start > limit || st->ended)
            goto out;
        if (start > 0) {
            memmove(block, block + start, filled - start);
            filled -= start;
            start = 0;
        }
        if (filled == size)
            goto out;
        if (stopping(ctl)) {
            *stopped = EINTR;
            goto out;
        }
        ssize_t n = read(fd, block + filled, size - filled);
        if (n > 0) {
            filled += (size_t)n;
        } else if (n == 0) {
            st->ended = 1;
        } else if (errno == EAGAIN) {
            struct pollfd p = {fd, POLLIN, 0};
            poll(&p, 1, -1); /* EINTR at a wake: `stop` is looked at above */
        } else if (errno != EINTR) {
            st->read_errno = errno;
            goto out;
        }
    }
out:
    leave(&l, ctl);
    st->filled = (int64_t)filled;
    st->start = (int64_t)start;
    return sent;
}

/*
 * Receive up to `max` messages into `out`, their texts back to back, each
 * followed by the byte `sep` unless sep is -1 (the output of `recv --all`,
 * ready to write). index[2n] gets message n's type and index[2n+1] the
 * offset just past its text (and separator). msgrcv writes the type in
 * the 8 bytes before the text: once 8 bytes are in `out`, each message is
 * received in place, those 8 bytes kept aside and put back; before that it
 * goes into `scratch` (MTYPE_SIZE + maxsize bytes) and is copied.
 * Stops when the next message might not fit, after `max` messages, when
 * woken through `ctl` (may be NULL), or at the first failing msgrcv.
 * Returns the number received; *stopped is 0 when it stopped for room or
 * count, else the errno of the failed call (EINTR when woken).
 */
static long msgrcv_run(int msqid, char *out, size_t outsize, size_t maxsize,
                       long msgtyp, int msgflg, long max, int sep,
                       char *scratch, int64_t *index, int *stopped,
                       struct wait_ctl *ctl)
{
    size_t at = 0;
    long n = 0;
    struct loop l;
    *stopped = 0;
    enter(&l, ctl, msgflg);
    while (n < max && at + maxsize + 1 <= outsize) {
        if (stopping(ctl)) {
            *stopped = EINTR;
            break;
        }
        char saved[MTYPE_SIZE];
        char *msg = at >= MTYPE_SIZE ? out + at - MTYPE_SIZE : scratch;
        memcpy(saved, msg, MTYPE_SIZE);
        ssize_t got = receive_one(&l, msqid, msg, maxsize, msgtyp, msgflg);
        long mtype;
        memcpy(&mtype, msg, MTYPE_SIZE);
        memcpy(msg, saved, MTYPE_SIZE);
        if (msg == scratch && got > 0)
            memcpy(out + at, scratch + MTYPE_SIZE, (size_t)got);
        if (got == -1) {
            if (errno == EINTR)
                continue; /* woken: `stop` says whether to go on */
            *stopped = errno;
            break;
        }
        at += (size_t)got;
        if (sep != -1)
            out[at++] = (char)sep;
        index[2 * n] = mtype;
        index[2 * n + 1] = (int64_t)at;
        n++;
        if (ctl)
            __atomic_store_n(&ctl->held, (int32_t)n, __ATOMIC_SEQ_CST);
    }
    leave(&l, ctl);
    return n;
}

/*
 * Receive up to `max` messages as msgrcv_run does, and write them to `fd`
 * (`msgq recv --count` to a stdout that takes raw bytes): one call for the
 * whole stream, on the stream's thread. What the loop holds is written out
 * when the area is full, before a wait for a message once it holds
 * FLUSH_BYTES (a pipe's worth: a reader gets it in large writes, not one per
 * queueful), and before it returns; less than that waits with the loop, for
 * at most the caller's hold time (HOLD_MS in batch-wait.ts), after which the
 * caller wakes the loop, which writes it out and returns. A write waits for
 * a full pipe (poll(2) on a non-blocking one) and is retried on EINTR: what
 * was taken is delivered.
 * It returns after `max` messages, at a wake (*stopped = EINTR), at a failed
 * msgrcv (*stopped = its errno), or at a failed write: st->write_errno, and
 * then messages [0, st->held) of the area were taken and not all written,
 * st->written bytes of them were, for the caller to put back the rest.
 * st->delivered counts the messages wholly written. Returns the number taken.
 */
#define FLUSH_BYTES 65536

struct write_state {
    int64_t delivered;   /* messages wholly written */
    int64_t held;        /* after a failed write: messages of the area taken, not all written */
    int64_t written;     /* and how many of their bytes were */
    int64_t write_errno; /* errno of the failed write, else 0 */
};

struct receive_area {
    int fd;
    char *out;
    size_t at; /* bytes held */
    long n;    /* messages held */
    struct write_state *st;
    struct wait_ctl *ctl;
};

/* Write what the area holds; 0, or -1 with st->write_errno, st->held and st->written set. */
static int write_held(void *p)
{
    struct receive_area *a = p;
    size_t done = 0;
    while (done < a->at) {
        ssize_t w = write(a->fd, a->out + done, a->at - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1 && errno == EAGAIN) {
            struct pollfd p = {a->fd, POLLOUT, 0};
            poll(&p, 1, -1);
            continue;
        }
        a->st->write_errno = w == -1 ? errno : EIO;
        a->st->held = a->n;
        a->st->written = (int64_t)done;
        return -1;
    }
    a->st->delivered += a->n;
    a->at = 0;
    a->n = 0;
    if (a->ctl)
        __atomic_store_n(&a->ctl->held, 0, __ATOMIC_SEQ_CST);
    return 0;
}

static long msgrcv_write(int msqid, int fd, char *out, size_t outsize, size_t maxsize,
                         long msgtyp, int msgflg, long max, long room, int sep,
                         char *scratch, int64_t *index, struct write_state *st,
                         int *stopped, struct wait_ctl *ctl)
{
    struct receive_area a = {fd, out, 0, 0, st, ctl};
    struct loop l;
    long taken = 0;
    *stopped = 0;
    memset(st, 0, sizeof *st);
    enter(&l, ctl, msgflg);
    while (taken < max) {
        if (stopping(ctl)) {
            *stopped = EINTR;
            break;
        }
        if ((a.at + maxsize + 1 > outsize || a.n == room) && write_held(&a) != 0)
            goto out;
        char saved[MTYPE_SIZE];
        char *msg = a.at >= MTYPE_SIZE ? out + a.at - MTYPE_SIZE : scratch;
        memcpy(saved, msg, MTYPE_SIZE);
        ssize_t got;
        if (a.at >= FLUSH_BYTES) {
            /* Holding a pipe's worth: take more while there are, else write them out before waiting. */
            got = msgrcv(msqid, msg, maxsize, msgtyp, msgflg | IPC_NOWAIT);
            if (got == -1 && errno == ENOMSG) {
                memcpy(msg, saved, MTYPE_SIZE);
                if (write_held(&a) != 0)
                    goto out;
                continue;
            }
            if (got != -1)
                l.moved++;
        } else {
            got = receive_one(&l, msqid, msg, maxsize, msgtyp, msgflg);
        }
        long mtype;
        memcpy(&mtype, msg, MTYPE_SIZE);
        memcpy(msg, saved, MTYPE_SIZE);
        if (msg == scratch && got > 0)
            memcpy(out + a.at, scratch + MTYPE_SIZE, (size_t)got);
        if (got == -1) {
            if (errno == EINTR)
                continue; /* woken: `stop` says whether to go on */
            *stopped = errno;
            break;
        }
        a.at += (size_t)got;
        if (sep != -1)
            out[a.at++] = (char)sep;
        index[2 * a.n] = mtype;
        index[2 * a.n + 1] = (int64_t)a.at;
        a.n++;
        taken++;
        if (ctl)
            __atomic_store_n(&ctl->held, (int32_t)a.n, __ATOMIC_SEQ_CST);
    }
    write_held(&a);
out:
    leave(&l, ctl);
    return taken;
}

/*
 * The stream's own thread. A waiting loop is called on one of libuv's pool
 * threads, and which one runs a given call changes from call to call. The
 * scheduler places a thread by where it ran last: a new one, woken by the
 * thread that queued the call, is put beside it, and so the loop of one end
 * often lands on the CPU where the loop of the other end runs, while the
 * other CPU is free. There the two ends take turns on one CPU (ping-pong,
 * above) instead of running side by side, each loop moving a queueful per
 * turn. Measured on 2 CPUs, 100,000 x 1 KiB through a 16 KiB queue, both
 * ends at once: 0.33 s through the pool threads, 0.26 s with a pool of one
 * thread, 0.22 s with each end pinned to its own CPU. So a waiting loop runs
 * on a thread of its stream's own (struct runner, started by the first
 * waiting call of the stream and ended by ipcctl_wait_free), and the pool
 * thread only waits for it: the loop then runs where it ran before, which
 * is where the scheduler keeps it unless that CPU is wanted. The thread
 * blocks every signal but SIGURG (ipcctl_wake's), so SIGINT and the like
 * still go to Node's threads. Should the thread not start, the loop runs on
 * the calling thread, as before.
 */
enum { R_IDLE, R_POSTED, R_DONE, R_QUIT };

struct runner {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;
    void (*job)(void *);
    void *arg;
};

static void *runner_main(void *p)
{
    struct runner *r = p;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->state != R_POSTED && r->state != R_QUIT)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->state == R_QUIT)
            break;
        pthread_mutex_unlock(&r->mu);
        r->job(r->arg);
        pthread_mutex_lock(&r->mu);
        r->state = R_DONE;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static struct runner *runner_start(void)
{
    struct runner *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->state = R_IDLE;
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGURG);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    /* The new thread inherits this mask: every signal blocked but SIGURG. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&r->thread, &a, runner_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (err) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return NULL;
    }
    return r;
}

/* Run job(arg) on the stream's thread (started on first use) and wait for it; 0 when there is none. */
static int on_runner(struct wait_ctl *ctl, void (*job)(void *), void *arg)
{
    if (!ctl || (!ctl->runner && !(ctl->runner = runner_start())))
        return 0;
    struct runner *r = ctl->runner;
    pthread_mutex_lock(&r->mu);
    r->job = job;
    r->arg = arg;
    r->state = R_POSTED;
    pthread_cond_broadcast(&r->cv);
    while (r->state != R_DONE)
        pthread_cond_wait(&r->cv, &r->mu);
    r->state = R_IDLE;
    pthread_mutex_unlock(&r->mu);
    return 1;
}

/* End the stream's thread, if it has one (no loop may be running). */
void ipcctl_wait_free(struct wait_ctl *ctl)
{
    struct runner *r = ctl ? ctl->runner : NULL;
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->state = R_QUIT;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
    ctl->runner = NULL;
}

struct send_job {
    int msqid, msgflg;
    long mtype, count, result;
    char *base, *scratch;
    const uint32_t *spans;
    int *stopped;
    struct wait_ctl *ctl;
};

static void send_job(void *p)
{
    struct send_job *j = p;
    j->result = msgsnd_spans(j->msqid, j->mtype, j->base, j->spans, j->count, j->scratch, j->msgflg, j->stopped, j->ctl);
}

/* msgsnd_spans, for JS: a waiting one on the stream's thread. */
long ipcctl_msgsnd_spans(int msqid, long mtype, char *base,
                         const uint32_t *spans, long count, char *scratch,
                         int msgflg, int *stopped, struct wait_ctl *ctl)
{
    struct send_job j = {msqid, msgflg, mtype, count, 0, base, scratch, spans, stopped, ctl};
    if (ctl && !(msgflg & IPC_NOWAIT) && on_runner(ctl, send_job, &j))
        return j.result;
    return msgsnd_spans(msqid, mtype, base, spans, count, scratch, msgflg, stopped, ctl);
}

struct read_job {
    int msqid, fd, sep, msgflg;
    long mtype, result;
    char *block, *scratch;
    size_t size, limit;
    struct read_state *st;
    int *stopped;
    struct wait_ctl *ctl;
};

static void read_job(void *p)
{
    struct read_job *j = p;
    j->result = msgsnd_read(j->msqid, j->mtype, j->fd, j->block, j->size, j->sep, j->limit, j->scratch, j->msgflg, j->st, j->stopped, j->ctl);
}

/* msgsnd_read, for JS: on the stream's thread (a waiting loop only: `ctl` set, no IPC_NOWAIT). */
long ipcctl_msgsnd_read(int msqid, long mtype, int fd, char *block, size_t size, int sep, size_t limit,
                        char *scratch, int msgflg, struct read_state *st, int *stopped, struct wait_ctl *ctl)
{
    struct read_job j = {msqid, fd, sep, msgflg & ~IPC_NOWAIT, mtype, 0, block, scratch, size, limit, st, stopped, ctl};
    if (on_runner(ctl, read_job, &j))
        return j.result;
    read_job(&j);
    return j.result;
}

struct receive_job {
    int msqid, msgflg, sep;
    char *out, *scratch;
    size_t outsize, maxsize;
    long msgtyp, max, result;
    int64_t *index;
    int *stopped;
    struct wait_ctl *ctl;
};

static void receive_job(void *p)
{
    struct receive_job *j = p;
    j->result = msgrcv_run(j->msqid, j->out, j->outsize, j->maxsize, j->msgtyp, j->msgflg, j->max, j->sep, j->scratch, j->index, j->stopped, j->ctl);
}

/* msgrcv_run, for JS: a waiting one on the stream's thread. */
long ipcctl_msgrcv_run(int msqid, char *out, size_t outsize, size_t maxsize,
                       long msgtyp, int msgflg, long max, int sep,
                       char *scratch, int64_t *index, int *stopped,
                       struct wait_ctl *ctl)
{
    struct receive_job j = {msqid, msgflg, sep, out, scratch, outsize, maxsize, msgtyp, max, 0, index, stopped, ctl};
    if (ctl && !(msgflg & IPC_NOWAIT) && on_runner(ctl, receive_job, &j))
        return j.result;
    return msgrcv_run(msqid, out, outsize, maxsize, msgtyp, msgflg, max, sep, scratch, index, stopped, ctl);
}

struct write_job {
    int msqid, fd, msgflg, sep;
    char *out, *scratch;
    size_t outsize, maxsize;
    long msgtyp, max, room, result;
    int64_t *index;
    struct write_state *st;
    int *stopped;
    struct wait_ctl *ctl;
};

static void write_job(void *p)
{
    struct write_job *j = p;
    j->result = msgrcv_write(j->msqid, j->fd, j->out, j->outsize, j->maxsize, j->msgtyp, j->msgflg, j->max, j->room, j->sep, j->scratch, j->index, j->st, j->stopped, j->ctl);
}

/* msgrcv_write, for JS: on the stream's thread (a waiting loop only: `ctl` set, no IPC_NOWAIT). */
long ipcctl_msgrcv_write(int msqid, int fd, char *out, size_t outsize, size_t maxsize,
                         long msgtyp, int msgflg, long max, long room, int sep,
                         char *scratch, int64_t *index, struct write_state *st,
                         int *stopped, struct wait_ctl *ctl)
{
    struct write_job j = {msqid, fd, msgflg & ~IPC_NOWAIT, sep, out, scratch, outsize, maxsize, msgtyp, max, room, 0, index, st, stopped, ctl};
    if (!on_runner(ctl, write_job, &j))
        write_job(&j);
    return j.result;
}

/*
 * The same two loops for POSIX message queues (mq_send / mq_receive, in
 * libc.so.6 since glibc 2.34), for `pmq send --lines` and `pmq recv
 * --count/--all`. The descriptor is non-blocking: a full or empty queue
 * stops the loop with EAGAIN, and the caller waits in poll(2).
 */
#include <mqueue.h>

/* mq_send records base[spans[2i] .. +spans[2i+1]) for i in [0, count) with
 * priority `prio`. Returns how many went; when fewer, errno says why. */
long ipcctl_mq_send_spans(int mqd, const char *base, const uint32_t *spans,
                          long count, unsigned prio)
{
    long i;
    for (i = 0; i < count; i++)
        if (mq_send(mqd, base + spans[2 * i], spans[2 * i + 1], prio) == -1)
            return i;
    return i;
}

/* Receive up to `max` messages straight into `out`, each followed by `sep`
 * unless sep is -1. index[2n] gets message n's priority, index[2n+1] the
 * offset just past it (and its separator). Stops when a message of msgsize
 * might not fit, after `max`, or at the first failure (*stopped = errno). */
long ipcctl_mq_receive_run(int mqd, char *out, size_t outsize, size_t msgsize,
                           long max, int sep, int64_t *index, int *stopped)
{
    size_t at = 0;
    long n = 0;
    unsigned prio;
    *stopped = 0;
    while (n < max && at + msgsize + 1 <= outsize) {
        ssize_t got = mq_receive(mqd, out + at, msgsize, &prio);
        if (got == -1) {
            *stopped = errno;
            break;
        }
        at += (size_t)got;
        if (sep != -1)
            out[at++] = (char)sep;
        index[2 * n] = prio;
        index[2 * n + 1] = (int64_t)at;
        n++;
    }
    return n;
}
