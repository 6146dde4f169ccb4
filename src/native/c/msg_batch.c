/*
 * Batches of System V message-queue calls, for ipcctl's message loops.
 *
 * Why C at all: ipcctl calls libc through ffi-rs, and one ffi-rs call costs
 * 4-5 us with msgsnd's four arguments, while the kernel's own work for a
 * 1 KiB message is about 1 us. System V has no call that moves several
 * messages, so `msgq send --lines` and `msgq recv --all/--count` hand a
 * whole batch to these loops in one FFI call. They only loop: no policy
 * lives here. Each loop stops at the first failure and reports its errno in
 * *stopped, so the caller knows exactly which messages went and why.
 *
 * Waiting in the kernel. A loop called without IPC_NOWAIT blocks inside
 * msgsnd/msgrcv, on a worker thread (ffi-rs's runInNewThread), for as many
 * messages as the batch holds: a producer and a consumer sharing a small
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
 * No wake-up preemption while waiting. When both ends of a small queue
 * share a CPU (the scheduler puts a waker and its wakee together often, and
 * always when the other CPUs are busy), every msgsnd to a waiting receiver
 * and every msgrcv that frees room for a waiting sender preempts the caller
 * at once: two context switches per message, on both ends, several times
 * the kernel's own work (measured: 100,000 x 1 KiB through a 16 KiB queue,
 * one CPU, 73,000 switches per end and 0.8 s; the same with SCHED_BATCH
 * 5,900 and 0.3 s). So a waiting loop runs its thread as SCHED_BATCH, which
 * is SCHED_OTHER (same nice, same share of the CPU) without wake-up
 * preemption: a woken end waits for the running one to block or use up its
 * slice, and each then moves a queueful per switch. The thread goes back to
 * SCHED_OTHER when the loop returns (it is a pool thread that runs other
 * work after); a thread under any other policy is left as it is.
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
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define MTYPE_SIZE sizeof(long)

/* Shared with the JS side (msg-batch.ts WaitControl): four int32. */
struct wait_ctl {
    int32_t tid;  /* thread in the loop now, 0 when none */
    int32_t stop; /* set by ipcctl_wake: return at the next chance */
    int32_t held; /* messages taken by a receive loop so far */
    int32_t spare;
};

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

static void batch_policy_off(int switched)
{
    struct sched_param sp = {0};
    if (switched)
        sched_setscheduler(0, SCHED_OTHER, &sp);
}

/* Start of a loop; for a waiting loop (ctl set) 1 when its thread's policy must be put back by leave(). */
static int enter(struct wait_ctl *ctl)
{
    if (!ctl)
        return 0;
    __atomic_store_n(&ctl->held, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ctl->tid, (int32_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    return batch_policy_on();
}

static void leave(struct wait_ctl *ctl, int switched)
{
    if (!ctl)
        return;
    batch_policy_off(switched);
    __atomic_store_n(&ctl->tid, 0, __ATOMIC_SEQ_CST);
}

static int stopping(struct wait_ctl *ctl)
{
    return ctl && __atomic_load_n(&ctl->stop, __ATOMIC_SEQ_CST);
}

/*
 * Send records base[spans[2i] .. spans[2i] + spans[2i+1]) for i in [0, count),
 * each as one message of type `mtype`, copied into `scratch` (which holds
 * MTYPE_SIZE + the largest record). Returns how many were sent; when fewer
 * than `count`, *stopped is the errno of the call that failed (EINTR when
 * woken through `ctl`, which may be NULL), else 0.
 */
long ipcctl_msgsnd_spans(int msqid, long mtype, const char *base,
                         const uint32_t *spans, long count, char *scratch,
                         int msgflg, int *stopped, struct wait_ctl *ctl)
{
    long i;
    *stopped = 0;
    int switched = enter(ctl);
    memcpy(scratch, &mtype, MTYPE_SIZE);
    for (i = 0; i < count; i++) {
        size_t len = spans[2 * i + 1];
        memcpy(scratch + MTYPE_SIZE, base + spans[2 * i], len);
        for (;;) {
            if (stopping(ctl)) {
                *stopped = EINTR;
                goto out;
            }
            if (msgsnd(msqid, scratch, len, msgflg) == 0)
                break;
            if (errno != EINTR) {
                *stopped = errno;
                goto out;
            }
        }
    }
out:
    leave(ctl, switched);
    return i;
}

/*
 * Receive up to `max` messages into `out`, their texts back to back, each
 * followed by the byte `sep` unless sep is -1 (the output of `recv --all`,
 * ready to write). index[2n] gets message n's type and index[2n+1] the
 * offset just past its text (and separator). Each msgrcv goes into
 * `scratch` (MTYPE_SIZE + maxsize bytes) first, for its type header.
 * Stops when the next message might not fit, after `max` messages, when
 * woken through `ctl` (may be NULL), or at the first failing msgrcv.
 * Returns the number received; *stopped is 0 when it stopped for room or
 * count, else the errno of the failed call (EINTR when woken).
 */
long ipcctl_msgrcv_run(int msqid, char *out, size_t outsize, size_t maxsize,
                       long msgtyp, int msgflg, long max, int sep,
                       char *scratch, int64_t *index, int *stopped,
                       struct wait_ctl *ctl)
{
    size_t at = 0;
    long n = 0;
    *stopped = 0;
    int switched = enter(ctl);
    while (n < max && at + maxsize + 1 <= outsize) {
        if (stopping(ctl)) {
            *stopped = EINTR;
            break;
        }
        ssize_t got = msgrcv(msqid, scratch, maxsize, msgtyp, msgflg);
        if (got == -1) {
            if (errno == EINTR)
                continue; /* woken: `stop` says whether to go on */
            *stopped = errno;
            break;
        }
        long mtype;
        memcpy(&mtype, scratch, MTYPE_SIZE);
        memcpy(out + at, scratch + MTYPE_SIZE, (size_t)got);
        at += (size_t)got;
        if (sep != -1)
            out[at++] = (char)sep;
        index[2 * n] = mtype;
        index[2 * n + 1] = (int64_t)at;
        n++;
        if (ctl)
            __atomic_store_n(&ctl->held, (int32_t)n, __ATOMIC_SEQ_CST);
    }
    leave(ctl, switched);
    return n;
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
