/*
 * Batches of System V message-queue calls, for ipcctl's message loops.
 *
 * Why C at all: ipcctl calls libc through ffi-rs, and one ffi-rs call costs
 * 4-5 us with msgsnd's four arguments, while the kernel's own work for a
 * 1 KiB message is about 1 us. System V has no call that moves several
 * messages, so `msgq send --lines` and `msgq recv --all` hand a whole batch
 * to this loop in one FFI call. It only loops: no policy lives here. Every
 * call is made with the caller's flags (IPC_NOWAIT in practice), and the
 * loop stops at the first failure with errno left as msgsnd/msgrcv set it,
 * so the caller can tell exactly which messages went and why it stopped.
 *
 * Built by `npm run build` when a C compiler is present; without it ipcctl
 * makes the same calls one FFI call at a time (src/native/msg-batch.ts).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define MTYPE_SIZE sizeof(long)

/*
 * Send records base[spans[2i] .. spans[2i] + spans[2i+1]) for i in [0, count),
 * each as one message of type `mtype`, copied into `scratch` (which holds
 * MTYPE_SIZE + the largest record). Returns how many were sent; when fewer
 * than `count`, errno says why the next one was not.
 */
long ipcctl_msgsnd_spans(int msqid, long mtype, const char *base,
                         const uint32_t *spans, long count, char *scratch,
                         int msgflg)
{
    long i;
    memcpy(scratch, &mtype, MTYPE_SIZE);
    for (i = 0; i < count; i++) {
        size_t len = spans[2 * i + 1];
        memcpy(scratch + MTYPE_SIZE, base + spans[2 * i], len);
        if (msgsnd(msqid, scratch, len, msgflg) == -1)
            return i;
    }
    return i;
}

/*
 * Receive up to `max` messages into `out`, their texts back to back, each
 * followed by the byte `sep` unless sep is -1 (the output of `recv --all`,
 * ready to write). index[2n] gets message n's type and index[2n+1] the
 * offset just past its text (and separator). Each msgrcv goes into
 * `scratch` (MTYPE_SIZE + maxsize bytes) first, for its type header.
 * Stops when the next message might not fit, after `max` messages, or at
 * the first failing msgrcv. Returns the number received; *stopped is 0 when
 * it stopped for room or count, else the errno of the failed call.
 */
long ipcctl_msgrcv_run(int msqid, char *out, size_t outsize, size_t maxsize,
                       long msgtyp, int msgflg, long max, int sep,
                       char *scratch, int64_t *index, int *stopped)
{
    size_t at = 0;
    long n = 0;
    *stopped = 0;
    while (n < max && at + maxsize + 1 <= outsize) {
        ssize_t got = msgrcv(msqid, scratch, maxsize, msgtyp, msgflg);
        if (got == -1) {
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
    }
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
