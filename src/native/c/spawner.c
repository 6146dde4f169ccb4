/*
 * The children of `serve --exec`, started off the main thread, and the
 * accept loop of an --exec server in one call per wake.
 *
 * Spawner threads: a child starts with clone(CLONE_VM|CLONE_VFORK), which
 * suspends only the calling thread until the child has exec'd; that wait is
 * a spawner thread's, and the main thread (Node, our poll loop) goes on
 * serving. Each thread keeps one stack for its children (no mmap/munmap per
 * child, as glibc's posix_spawn does), the child resets only the signals
 * that need it (posix_spawn looks at all 64 with one sigaction each), and
 * CLONE_PIDFD hands back the pidfd the poll loop waits on, so no
 * pidfd_open(2) follows. Jobs come as fixed-size records on one pipe,
 * replies go back on another, which the poll loop watches.
 *
 * ipcctl_exec_accept: accept4 in a loop, and per connection its two pipes
 * (the child's stdout and stderr, our ends non-blocking), its environment
 * (ours plus IPCCTL_PEER_ADDR/PORT) and its job, in one FFI call instead of
 * a dozen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* One child to start (56 bytes; the TypeScript side writes the same layout). */
struct job {
    uint64_t id;
    const char *file;
    char *const *argv;
    char *const *envp;
    int32_t fd[3];       /* the child's 0, 1, 2 */
    int32_t close_fd[2]; /* our copies of the child's ends, closed once it runs (-1: none) */
    int32_t owns_env;    /* envp is one malloc'ed block of ours: free it after the spawn */
};

/* 24 bytes. pidfd is -1 when the kernel has no CLONE_PIDFD (then the caller opens one). */
struct reply {
    uint64_t id;
    int32_t pid;
    int32_t err;
    int32_t pidfd;
    int32_t pad;
};

/* The threads read jobs from req_fd and write replies to rep_fd;
   ipcctl_exec_accept writes its jobs to job_fd, the other end of req_fd. */
static int req_fd = -1, rep_fd = -1, job_fd = -1;
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
        while (write(rep_fd, &r, sizeof r) < 0 && errno == EINTR) {}
    }
    free(stack);
    return 0;
}

static void add_signal(int s) { sigaddset(&reset_set, s); }

/* Start `threads` threads on the read end of the request pipe (`jobs` is
   its write end) and the write end of the reply pipe: each child's exec then overlaps the next one's
   spawn. Jobs (56 bytes) and replies (24) are written whole, and pipe I/O
   of at most PIPE_BUF bytes is atomic, so the threads never see half a
   record. Returns 0, or an errno value (when not even one thread started). */
int ipcctl_spawner_start(int requests, int jobs, int replies, int threads) {
    req_fd = requests;
    job_fd = jobs;
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

/* What ipcctl_exec_accept is given (the TypeScript side writes this layout). */
struct accept_params {
    int32_t lfd;
    int32_t max;       /* accept at most this many */
    int32_t linger;    /* SO_LINGER seconds, -1: leave it */
    int32_t env_count; /* entries of env (without its NULL) */
    const char *file;
    char *const *argv;
    char *const *env;
    uint64_t next_id; /* the first job id to use; advanced */
    struct conn_record *out;
};

/* One accepted connection (256 bytes). err != 0: it could not be set up
   (EMFILE...), its socket is already closed, no job went out. */
struct conn_record {
    int32_t fd, out_r, err_r, err;
    uint64_t id;
    uint32_t salen;
    int32_t pad;
    char text[96]; /* the peer's address as text, for inet and inet6 */
    unsigned char sa[128];
};

static int nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* IPCCTL_PEER_ADDR (and _PORT, but not for a UNIX peer), as the
   TypeScript path (launcher.ts peerOf) writes them. */
static int peer_env(const struct sockaddr_storage *ss, socklen_t len, char *addr, size_t addrsz, char *text, int *port) {
    *port = -1;
    text[0] = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;
        inet_ntop(AF_INET, &in->sin_addr, text, 96);
        *port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, text, 96);
        *port = ntohs(in6->sin6_port);
    } else {
        const struct sockaddr_un *un = (const void *)ss;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = len > off ? len - off : 0;
        if (n == 0) {
            addr[0] = 0;
        } else if (un->sun_path[0] == 0) {
            snprintf(addr, addrsz, "@%.*s", (int)(n - 1), un->sun_path + 1);
        } else {
            snprintf(addr, addrsz, "%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
        }
        return 0;
    }
    snprintf(addr, addrsz, "%s", text);
    return 0;
}

/* Accept up to p->max connections and send a job for each. Returns how
   many records it wrote, or -errno when accept4 failed before the first. */
int ipcctl_exec_accept(struct accept_params *p) {
    int n = 0;
    while (n < p->max) {
        struct conn_record *r = &p->out[n];
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        /* Blocking: the child reads it with ordinary reads; ours pass MSG_DONTWAIT. */
        int fd = accept4(p->lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || n > 0) break;
            return -errno;
        }
        memset(r, 0, offsetof(struct conn_record, sa));
        r->fd = fd;
        r->out_r = r->err_r = -1;
        r->salen = len < sizeof r->sa ? len : sizeof r->sa;
        memcpy(r->sa, &ss, r->salen);
        n++;
        if (p->linger >= 0) {
            struct linger l = { 1, p->linger };
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        char addr[112];
        int port;
        peer_env(&ss, len, addr, sizeof addr, r->text, &port);
        int out[2] = { -1, -1 }, err[2] = { -1, -1 };
        size_t envsz = (size_t)(p->env_count + 3) * sizeof(char *);
        char *block = 0;
        if (pipe2(out, O_CLOEXEC) < 0 || nonblocking(out[0]) < 0 || pipe2(err, O_CLOEXEC) < 0 || nonblocking(err[0]) < 0 ||
            !(block = malloc(envsz + sizeof addr + 40 + 32))) {
            r->err = errno ? errno : ENOMEM;
            for (int i = 0; i < 2; i++) {
                if (out[i] >= 0) close(out[i]);
                if (err[i] >= 0) close(err[i]);
            }
            close(fd);
            r->fd = -1;
            continue;
        }
        char **envp = (char **)block;
        char *strings = block + envsz;
        memcpy(envp, p->env, (size_t)p->env_count * sizeof(char *));
        int k = p->env_count;
        envp[k++] = strings;
        strings += sprintf(strings, "IPCCTL_PEER_ADDR=%s", addr) + 1;
        if (port >= 0) {
            envp[k++] = strings;
            sprintf(strings, "IPCCTL_PEER_PORT=%d", port);
        }
        envp[k] = 0;
        struct job j = { p->next_id++, p->file, p->argv, envp, { fd, out[1], err[1] }, { out[1], err[1] }, 1 };
        ssize_t w;
        while ((w = write(job_fd, &j, sizeof j)) < 0 && errno == EINTR) {}
        if (w != (ssize_t)sizeof j) {
            r->err = w < 0 ? errno : EIO;
            free(block);
            for (int i = 0; i < 2; i++) {
                close(out[i]);
                close(err[i]);
            }
            close(fd);
            r->fd = -1;
            continue;
        }
        r->id = j.id;
        r->out_r = out[0];
        r->err_r = err[0];
    }
    return n;
}

/* The layouts src/native/spawn.ts writes and reads. */
_Static_assert(sizeof(struct job) == 56, "struct job is 56 bytes");
_Static_assert(sizeof(struct reply) == 24, "struct reply is 24 bytes");
_Static_assert(sizeof(struct accept_params) == 56, "struct accept_params is 56 bytes");
_Static_assert(sizeof(struct conn_record) == 256 && offsetof(struct conn_record, text) == 32 && offsetof(struct conn_record, sa) == 128,
               "struct conn_record is 256 bytes, text at 32, sa at 128");
