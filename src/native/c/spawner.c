/*
 * The children of `serve --exec` and `udp listen --exec`, started off the
 * main thread (exec_engine.c runs the connections of `serve --exec`).
 *
 * Spawner threads: a child starts with clone(CLONE_VM|CLONE_VFORK), which
 * suspends only the calling thread until the child has exec'd; that wait is
 * a spawner thread's, and the main thread (Node, our poll loop) goes on
 * serving. Each thread keeps one stack for its children (no mmap/munmap per
 * child, as glibc's posix_spawn does), the child resets only the signals
 * that need it (posix_spawn looks at all 64 with one sigaction each), and
 * CLONE_PIDFD hands back the pidfd the poll loop waits on, so no
 * pidfd_open(2) follows. Jobs come as fixed-size records on one pipe,
 * replies go back on another (or the one the job names), which the poll
 * loop watches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawner.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* The threads read jobs from req_fd and write replies to rep_fd (or the
   job's own reply_fd); the exec engine writes its jobs to ipcctl_job_fd,
   the other end of req_fd. */
static int req_fd = -1, rep_fd = -1;
int ipcctl_job_fd = -1;
/* Signals the child sets back to SIG_DFL before its exec: those ignored or
   handled here. An ignored signal would survive the exec (Node ignores
   SIGPIPE: a `cat` whose reader left would spin on EPIPE instead of dying);
   a handled one must not run in the child, which shares our memory. */
static sigset_t reset_set;

enum { STACK = 64 * 1024 };

struct child_arg {
    const struct job *job;
    volatile int err;
};

static int child_main(void *p) {
    struct child_arg *a = p;
    const struct job *j = a->job;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&reset_set, s) == 1) sigaction(s, &dfl, 0);
    for (int i = 0; i < 3; i++) {
        /* dup2 onto itself keeps close-on-exec: clear it instead. */
        if (j->fd[i] == i) {
            if (fcntl(i, F_SETFD, 0) < 0) goto fail;
        } else if (dup2(j->fd[i], i) < 0) {
            goto fail;
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    execve(j->file, j->argv, j->envp);
fail:
    a->err = errno;
    _exit(127);
}

static int pidfd_flag = CLONE_PIDFD;

/* Start one child: its pid (and *pidfd), or -1 with *err. */
static pid_t spawn_one(const struct job *j, char *stack, int *pidfd, int *err) {
    struct child_arg a = { j, 0 };
    int pfd = -1;
    pid_t pid = clone(child_main, stack + STACK, CLONE_VM | CLONE_VFORK | pidfd_flag | SIGCHLD, &a, &pfd);
    if (pid < 0 && errno == EINVAL && pidfd_flag) {
        /* A kernel before 5.2: no CLONE_PIDFD. */
        pidfd_flag = 0;
        pid = clone(child_main, stack + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a, &pfd);
        pfd = -1;
    }
    if (pid < 0) {
        *err = errno;
        return -1;
    }
    if (a.err) {
        /* The exec failed: the child has exited with 127; reap it here. */
        while (waitpid(pid, 0, 0) < 0 && errno == EINTR) {}
        if (pfd >= 0) close(pfd);
        *err = a.err;
        return -1;
    }
    *pidfd = pidfd_flag ? pfd : -1;
    return pid;
}

static int full_read(int fd, void *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static void *loop(void *unused) {
    (void)unused;
    char *stack = malloc(STACK);
    if (!stack) return 0;
    struct job q;
    while (full_read(req_fd, &q, sizeof q) == 0) {
        int pidfd = -1, err = 0;
        pid_t pid = spawn_one(&q, stack, &pidfd, &err);
        for (int i = 0; i < 2; i++)
            if (q.close_fd[i] >= 0) close(q.close_fd[i]);
        if (q.owns_env) free((void *)q.envp);
        struct reply r = { q.id, pid, pid < 0 ? err : 0, pidfd, 0 };
        while (write(q.reply_fd >= 0 ? q.reply_fd : rep_fd, &r, sizeof r) < 0 && errno == EINTR) {}
    }
    free(stack);
    return 0;
}

static void add_signal(int s) { sigaddset(&reset_set, s); }

/* Start `threads` threads on the read end of the request pipe (`jobs` is
   its write end) and the write end of the reply pipe: each child's exec then overlaps the next one's
   spawn. Jobs (64 bytes) and replies (24) are written whole, and pipe I/O
   of at most PIPE_BUF bytes is atomic, so the threads never see half a
   record. Returns 0, or an errno value (when not even one thread started). */
int ipcctl_spawner_start(int requests, int jobs, int replies, int threads) {
    req_fd = requests;
    ipcctl_job_fd = jobs;
    rep_fd = replies;
    sigemptyset(&reset_set);
    for (int s = 1; s < NSIG; s++) {
        struct sigaction now;
        if (sigaction(s, 0, &now) == 0 && now.sa_handler != SIG_DFL) add_signal(s);
    }
    /* The ones Node and ipcctl may handle later (after this start). */
    int later[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGXFSZ };
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) add_signal(later[i]);
    pthread_attr_t a;
    sigset_t all, old;
    int started = 0, err = 0;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256 * 1024);
    /* The threads block every signal, so signals keep going to Node's
       thread, and their children start with everything blocked until the
       dispositions are reset. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        err = pthread_create(&t, &a, loop, 0);
        if (err == 0) started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, 0);
    pthread_attr_destroy(&a);
    return started > 0 ? 0 : err;
}

/* The layouts src/native/spawn.ts writes and reads. */
_Static_assert(sizeof(struct job) == 64, "struct job is 64 bytes");
_Static_assert(sizeof(struct reply) == 24, "struct reply is 24 bytes");
