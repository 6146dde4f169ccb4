/*
 * The connections of `serve --exec`, run in C: one FFI call per wake of the
 * server does every accept, relay, reap and close that is ready, and hands
 * the TypeScript side only what it reports (accept, stderr bytes, exit,
 * close) as records in one buffer. In TypeScript the same work cost about
 * 15 FFI calls and ~100 us of JavaScript per connection, more than the
 * kernel work itself; here it is the syscalls alone.
 *
 * Per connection: the socket is the child's stdin (blocking: the child
 * reads it; our calls pass MSG_DONTWAIT); its stdout is a pipe we relay to
 * the socket, so that the pipe's EOF becomes shutdown(SHUT_WR) while the
 * child may still read; its stderr is a pipe whose bytes go up as records
 * (the server prefixes each line with the peer); its pidfd says when to
 * reap it. Once its stdout has ended and it has exited, what the peer still
 * sends is read and dropped (up to 2 s) until the peer's FIN, so that the
 * close sends no reset. Everything waits in one epoll set, which the
 * server's poll loop watches as one fd. Children start on the spawner
 * threads (spawner.c); their replies come back on a pipe of the engine's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawner.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

enum { K_LISTEN, K_REPLY, K_OUT, K_ERR, K_PID, K_SOCK };
enum { DRAIN_MS = 2000, ACCEPT_BATCH = 16, READS_PER_WAKE = 16, STDERR_CHUNK = 4096 };
/* Room every step of the engine may need in the output (a finish: stderr chunk + two records). */
enum { RESERVE = STDERR_CHUNK + 512 };

/* Records (8-byte aligned; src/native/exec-engine.ts reads the same layout). */
enum { R_ACCEPT = 1, R_STDERR = 2, R_STDERR_END = 3, R_EXIT = 4, R_CLOSE = 5 };
/* R_CLOSE flags. */
enum { F_SPAWN_FAILED = 1, F_REFUSED = 2 };
/* R_CLOSE err: an errno value, 0 for none, or this. */
enum { ERR_STOPPED = -1 };

struct rec_head {
    uint32_t type, len; /* len: the whole record, header included */
    uint64_t id;
};

struct econn {
    uint64_t id; /* 0: a free slot */
    int fd, out_r, err_r, pidfd;
    pid_t pid;
    int started, exited, out_done, draining;
    int needs_reply; /* its stdout ended before its start was heard */
    uint32_t sock_events; /* what the socket is in the epoll set for (0: not in it) */
    int64_t drain_until;
    uint64_t sent;
    int err, flags;
    char *pend; /* stdout bytes the socket has not taken yet */
    size_t pend_len, pend_off;
};

struct engine {
    int lfd, epfd, rep_r, rep_w;
    int listening, listen_watched, paused, stopping;
    int need_reply, reply_watched;
    int keep_open, max, linger, env_count;
    const char *file;
    char *const *argv;
    char *const *env;
    uint64_t next_id;
    struct econn *c;
    int cap, active, pending, running, draining, fatal, progress;
    char buf[65536];
};

/* One call's parameters and results (104 bytes; exec-engine.ts writes the same layout). */
struct exec_params {
    struct engine *engine;
    const char *file;
    char *const *argv;
    char *const *env;
    char *out;
    int32_t op, arg;
    int32_t lfd, max; /* max: -1 for no limit */
    int32_t linger, env_count;
    int32_t keep_open, out_size;
    /* Results. */
    int32_t used, active, listening, pending, running, draining, fatal, progress;
};

enum { OP_NEW, OP_RUN, OP_CLOSE_LISTENER, OP_STOPPING, OP_SIGNAL, OP_FINISH_ALL, OP_FREE };

struct out {
    char *p;
    size_t size, used;
};

static size_t room(const struct out *o) { return o->size - o->used; }

static void *record(struct out *o, uint32_t type, uint64_t id, size_t body) {
    size_t len = (sizeof(struct rec_head) + body + 7) & ~(size_t)7;
    if (room(o) < len) return 0;
    struct rec_head *h = (void *)(o->p + o->used);
    h->type = type;
    h->len = (uint32_t)len;
    h->id = id;
    o->used += len;
    return h + 1;
}

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* An epoll tag: the slot, the kind of fd, and the low bits of the id (a stale event for a reused slot is dropped). */
static uint64_t tag(int slot, int kind, uint64_t id) { return (id << 32) | ((uint64_t)slot << 3) | (uint64_t)kind; }

static int watch(struct engine *e, int op, int fd, uint32_t events, uint64_t t) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = t;
    return epoll_ctl(e->epfd, op, fd, &ev);
}

/* Out of the epoll set, then closed. close alone is not enough: a child
   being cloned holds a copy of our fd table until its exec, and a file
   leaves an epoll set only when its last copy is closed. */
static void drop(struct engine *e, int fd) {
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, 0);
    close(fd);
}

static int slot_of(struct engine *e, struct econn *c) { return (int)(c - e->c); }

static void listen_update(struct engine *e) {
    int want = e->listening && !e->paused && !e->stopping && (e->max < 0 || e->active < e->max);
    if (want == e->listen_watched) return;
    if (watch(e, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, e->lfd, EPOLLIN, tag(0, K_LISTEN, 0)) == 0) e->listen_watched = want;
}

static void close_listener(struct engine *e) {
    if (!e->listening) return;
    if (e->listen_watched) watch(e, EPOLL_CTL_DEL, e->lfd, 0, 0);
    e->listen_watched = 0;
    close(e->lfd);
    e->listening = 0;
}

static void sock_watch(struct engine *e, struct econn *c, uint32_t events) {
    if (events == c->sock_events) return;
    int op = c->sock_events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (watch(e, op, c->fd, events, tag(slot_of(e, c), K_SOCK, c->id)) == 0 || op == EPOLL_CTL_DEL) c->sock_events = events;
}

static void emit_stderr(struct engine *e, struct econn *c, struct out *o) {
    for (int i = 0; c->err_r >= 0 && i < READS_PER_WAKE; i++) {
        if (room(o) < RESERVE) return;
        ssize_t n = read(c->err_r, e->buf, STDERR_CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            drop(e, c->err_r);
            c->err_r = -1;
            record(o, R_STDERR_END, c->id, 0);
            return;
        }
        uint32_t *b = record(o, R_STDERR, c->id, 8 + (size_t)n);
        b[0] = (uint32_t)n;
        b[1] = 0;
        memcpy(b + 2, e->buf, (size_t)n);
        e->progress = 1;
        if (n < STDERR_CHUNK) return;
    }
}

static void finish(struct engine *e, struct econn *c, struct out *o) {
    if (c->draining) e->draining--;
    if (c->needs_reply) e->need_reply--;
    if (!c->started && !c->exited && !(c->flags & F_SPAWN_FAILED)) e->pending--;
    if (c->started && !c->exited) e->running--;
    if (c->out_r >= 0) drop(e, c->out_r);
    free(c->pend);
    if (c->err_r >= 0) {
        /* What it wrote before; a grandchild may hold the pipe open: stop there. */
        emit_stderr(e, c, o);
        if (c->err_r >= 0) {
            drop(e, c->err_r);
            record(o, R_STDERR_END, c->id, 0);
        }
    }
    if (c->pidfd >= 0) drop(e, c->pidfd);
    if (c->sock_events) drop(e, c->fd);
    else close(c->fd);
    int32_t *b = record(o, R_CLOSE, c->id, 16);
    memcpy(b, &c->sent, 8);
    b[2] = c->err;
    b[3] = c->flags;
    memset(c, 0, sizeof *c);
    e->active--;
    e->progress = 1;
    /* An fd is free again: accept again if EMFILE had stopped us. */
    e->paused = 0;
    listen_update(e);
}

static void drain(struct engine *e, struct econn *c, struct out *o) {
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = recv(c->fd, e->buf, sizeof e->buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) return finish(e, c, o);
        e->progress = 1;
    }
    sock_watch(e, c, EPOLLIN);
}

static void maybe_end(struct engine *e, struct econn *c, struct out *o) {
    if (!c->out_done || !c->started || !c->exited || c->draining || e->stopping) return;
    c->draining = 1;
    e->draining++;
    c->drain_until = now_ms() + DRAIN_MS;
    drain(e, c, o);
}

static void reaped(struct engine *e, struct econn *c, struct out *o);

static void close_out(struct engine *e, struct econn *c, struct out *o) {
    if (c->out_r >= 0) drop(e, c->out_r);
    c->out_r = -1;
    c->out_done = 1;
    free(c->pend);
    c->pend = 0;
    sock_watch(e, c, 0);
    if (!c->started && !(c->flags & F_SPAWN_FAILED) && !c->needs_reply) {
        /* Its start must be heard now: nothing else will wake us for it. */
        c->needs_reply = 1;
        e->need_reply++;
    }
    /* The child exits as its stdout ends, often: reap it on this wake, not the next. */
    if (c->started && !c->exited && c->pidfd >= 0) reaped(e, c, o);
    else maybe_end(e, c, o);
}

/* Send [p, p+n) to the socket: 0 when all went, 1 when the rest waits in c->pend, -1 when the peer is gone. */
static int deliver(struct engine *e, struct econn *c, const char *p, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(c->fd, p + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        if (w < 0) {
            /* The peer went away (EPIPE, ECONNRESET): the child gets EPIPE on its next write. */
            c->err = errno;
            return -1;
        }
        off += (size_t)w;
        c->sent += (uint64_t)w;
        e->progress = 1;
    }
    if (off == n) return 0;
    if (p != c->pend) {
        char *keep = malloc(n - off);
        if (!keep) {
            c->err = ENOMEM;
            return -1;
        }
        memcpy(keep, p + off, n - off);
        c->pend = keep;
        c->pend_len = n - off;
        c->pend_off = 0;
    } else {
        c->pend_off += off;
    }
    return 1;
}

/* The child's stdout to the socket; while the socket is full, stdout is not read. */
static void relay(struct engine *e, struct econn *c, struct out *o) {
    if (c->pend) {
        int r = deliver(e, c, c->pend + c->pend_off, c->pend_len - c->pend_off);
        if (r < 0) return close_out(e, c, o);
        if (r > 0) return;
        free(c->pend);
        c->pend = 0;
        sock_watch(e, c, 0);
        watch(e, EPOLL_CTL_ADD, c->out_r, EPOLLIN, tag(slot_of(e, c), K_OUT, c->id));
    }
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = read(c->out_r, e->buf, sizeof e->buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            /* The child's stdout ended: the peer sees EOF, and may still be read from. */
            shutdown(c->fd, SHUT_WR);
            return close_out(e, c, o);
        }
        int r = deliver(e, c, e->buf, (size_t)n);
        if (r < 0) return close_out(e, c, o);
        if (r > 0) {
            /* Wait for room in the socket; the pipe waits meanwhile (an fd in epoll always reports its HUP). */
            watch(e, EPOLL_CTL_DEL, c->out_r, 0, 0);
            sock_watch(e, c, EPOLLOUT);
            return;
        }
        /* A short read most likely emptied the pipe: the set says when there is more (or its EOF). */
        if ((size_t)n < sizeof e->buf) return;
    }
}

static void reaped(struct engine *e, struct econn *c, struct out *o) {
    int st = 0;
    pid_t r;
    while ((r = waitpid(c->pid, &st, WNOHANG)) < 0 && errno == EINTR) {}
    if (r == 0) return; /* not yet */
    int code = -1, sig = -1;
    if (r == c->pid) {
        if (WIFEXITED(st)) code = WEXITSTATUS(st);
        else if (WIFSIGNALED(st)) sig = WTERMSIG(st);
    } /* else ECHILD: reaped elsewhere, status unknown */
    drop(e, c->pidfd);
    c->pidfd = -1;
    c->exited = 1;
    e->running--;
    e->progress = 1;
    /* What it wrote to stderr before exiting comes first. */
    emit_stderr(e, c, o);
    int32_t *b = record(o, R_EXIT, c->id, 16);
    b[0] = c->pid;
    b[1] = code;
    b[2] = sig;
    b[3] = 0;
    /* Its stdout has most likely ended too: take that on this wake as well. */
    if (c->out_r >= 0 && !c->pend && !e->stopping) relay(e, c, o);
    else maybe_end(e, c, o);
}

static void spawned(struct engine *e, const struct reply *r, struct out *o) {
    int slot = (int)(r->id >> 40);
    uint64_t id = r->id & ((1ULL << 40) - 1);
    struct econn *c = slot < e->cap ? &e->c[slot] : 0;
    if (!c || c->id != id) {
        /* Its connection was given up (the server stopped before the reply came). */
        if (r->pidfd >= 0) close(r->pidfd);
        return;
    }
    e->pending--;
    e->progress = 1;
    if (c->needs_reply) {
        c->needs_reply = 0;
        e->need_reply--;
    }
    if (r->pid < 0) {
        c->err = r->err;
        c->flags |= F_SPAWN_FAILED;
        return finish(e, c, o);
    }
    c->pid = r->pid;
    c->pidfd = r->pidfd >= 0 ? r->pidfd : (int)syscall(SYS_pidfd_open, r->pid, 0);
    c->started = 1;
    e->running++;
    if (c->pidfd < 0 || watch(e, EPOLL_CTL_ADD, c->pidfd, EPOLLIN, tag(slot, K_PID, id)) < 0) {
        /* No way to watch it: it does not run unwatched. */
        c->err = errno;
        c->flags |= F_SPAWN_FAILED;
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, 0, 0) < 0 && errno == EINTR) {}
        if (c->pidfd >= 0) drop(e, c->pidfd);
        c->pidfd = -1;
        c->exited = 1;
        e->running--;
        return finish(e, c, o);
    }
    if (c->out_done) reaped(e, c, o);
}

static void take_replies(struct engine *e, struct out *o) {
    struct reply r[16];
    for (;;) {
        if (room(o) < RESERVE * 16) return;
        ssize_t n = read(e->rep_r, r, sizeof r);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        /* 24-byte pipe writes are atomic: records are never split. */
        for (ssize_t i = 0; i < n / (ssize_t)sizeof r[0]; i++) spawned(e, &r[i], o);
        if (n < (ssize_t)sizeof r) return;
    }
}

/* Replies are read in passing on every wake (a child's output wakes us anyway);
   the reply pipe itself is watched only while a connection cannot go on without one. */
static void replies_update(struct engine *e) {
    int want = e->stopping ? e->pending > 0 : e->need_reply > 0;
    if (want == e->reply_watched) return;
    if (watch(e, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, e->rep_r, EPOLLIN, tag(0, K_REPLY, 0)) == 0) e->reply_watched = want;
}

static int new_slot(struct engine *e) {
    for (int i = 0; i < e->cap; i++)
        if (e->c[i].id == 0) return i;
    int cap = e->cap ? e->cap * 2 : 64;
    struct econn *c = realloc(e->c, (size_t)cap * sizeof *c);
    if (!c) return -1;
    memset(c + e->cap, 0, (size_t)(cap - e->cap) * sizeof *c);
    e->c = c;
    int slot = e->cap;
    e->cap = cap;
    return slot;
}

/* IPCCTL_PEER_ADDR (and _PORT, but not for a UNIX peer), as launcher.ts peerOf writes them; `text` the inet address for the record. */
static void peer_env(const struct sockaddr_storage *ss, socklen_t len, char *addr, size_t addrsz, char *text, int *port) {
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
        if (n == 0) addr[0] = 0;
        else if (un->sun_path[0] == 0) snprintf(addr, addrsz, "@%.*s", (int)(n - 1), un->sun_path + 1);
        else snprintf(addr, addrsz, "%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
        return;
    }
    snprintf(addr, addrsz, "%s", text);
}

static int nonblocking(int fd) { return fcntl(fd, F_SETFL, O_RDONLY | O_NONBLOCK); }

/* The pipes, environment and job of a new connection: 0, or an errno value (nothing left open but fd). */
static int set_up(struct engine *e, int fd, uint64_t id, const char *addr, int port) {
    int slot = new_slot(e);
    if (slot < 0) return ENOMEM;
    int out[2] = { -1, -1 }, err[2] = { -1, -1 };
    size_t envsz = (size_t)(e->env_count + 3) * sizeof(char *);
    char *block = 0;
    int fail = 0;
    if (pipe2(out, O_CLOEXEC) < 0 || nonblocking(out[0]) < 0 || pipe2(err, O_CLOEXEC) < 0 || nonblocking(err[0]) < 0 ||
        !(block = malloc(envsz + strlen(addr) + 40 + 32)))
        fail = errno ? errno : ENOMEM;
    if (!fail && (watch(e, EPOLL_CTL_ADD, out[0], EPOLLIN, tag(slot, K_OUT, id)) < 0 || watch(e, EPOLL_CTL_ADD, err[0], EPOLLIN, tag(slot, K_ERR, id)) < 0))
        fail = errno;
    struct job j;
    if (!fail) {
        char **envp = (char **)block;
        char *strings = block + envsz;
        memcpy(envp, e->env, (size_t)e->env_count * sizeof(char *));
        int k = e->env_count;
        envp[k++] = strings;
        strings += sprintf(strings, "IPCCTL_PEER_ADDR=%s", addr) + 1;
        if (port >= 0) {
            envp[k++] = strings;
            sprintf(strings, "IPCCTL_PEER_PORT=%d", port);
        }
        envp[k] = 0;
        struct job q = { ((uint64_t)slot << 40) | id, e->file, e->argv, envp, { fd, out[1], err[1] }, { out[1], err[1] }, 1, e->rep_w, 0 };
        j = q;
        ssize_t w;
        while ((w = write(ipcctl_job_fd, &j, sizeof j)) < 0 && errno == EINTR) {}
        if (w != (ssize_t)sizeof j) fail = w < 0 ? errno : EIO;
    }
    if (fail) {
        free(block);
        for (int i = 0; i < 2; i++) {
            if (out[i] >= 0) drop(e, out[i]);
            if (err[i] >= 0) drop(e, err[i]);
        }
        return fail;
    }
    struct econn *c = &e->c[slot];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->fd = fd;
    c->out_r = out[0];
    c->err_r = err[0];
    c->pidfd = -1;
    e->active++;
    e->pending++;
    return 0;
}

static void accept_some(struct engine *e, struct out *o) {
    for (int i = 0; i < ACCEPT_BATCH && e->listen_watched; i++) {
        if (room(o) < RESERVE) return;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        /* Blocking: the child reads it with ordinary reads; ours pass MSG_DONTWAIT. */
        int fd = accept4(e->lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN) return;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of fds: wait for a connection to end. */
                e->paused = 1;
                listen_update(e);
                return;
            }
            e->fatal = errno;
            return;
        }
        uint64_t id = e->next_id++;
        e->progress = 1;
        if (e->linger >= 0) {
            struct linger l = { 1, e->linger };
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        char addr[112];
        int port;
        uint32_t *b = record(o, R_ACCEPT, id, 8 + 128 + 96);
        b[0] = len < 128 ? len : 128;
        b[1] = 0;
        memcpy(b + 2, &ss, b[0]);
        /* The address as text too (for inet and inet6): no inet_ntop call on the other side. */
        peer_env(&ss, len, addr, sizeof addr, (char *)(b + 2) + 128, &port);
        int err = set_up(e, fd, id, addr, port);
        if (err) {
            /* Out of fds for the pipes (EMFILE): this client is refused, the server goes on. */
            close(fd);
            int32_t *r = record(o, R_CLOSE, id, 16);
            memset(r, 0, 8);
            r[2] = err;
            r[3] = F_REFUSED;
        }
        if (!e->keep_open) close_listener(e);
        listen_update(e);
    }
}

static void run(struct engine *e, struct out *o, int timeout_ms) {
    struct epoll_event ev[64];
    take_replies(e, o);
    int n = epoll_wait(e->epfd, ev, 64, timeout_ms);
    if (n > 0) take_replies(e, o);
    for (int i = 0; i < n; i++) {
        uint64_t t = ev[i].data.u64;
        int kind = (int)(t & 7), slot = (int)((t >> 3) & 0x1fffffff);
        if (kind == K_LISTEN) {
            accept_some(e, o);
            continue;
        }
        if (kind == K_REPLY) {
            take_replies(e, o);
            continue;
        }
        if (room(o) < RESERVE) break; /* level-triggered: the rest comes on the next call */
        if (slot >= e->cap) continue;
        struct econn *c = &e->c[slot];
        if (c->id == 0 || (uint32_t)c->id != (uint32_t)(t >> 32)) continue;
        switch (kind) {
        case K_OUT:
            if (c->out_r >= 0 && !c->pend) relay(e, c, o);
            break;
        case K_ERR:
            emit_stderr(e, c, o);
            break;
        case K_PID:
            if (c->pidfd >= 0) reaped(e, c, o);
            break;
        case K_SOCK:
            if (c->pend) relay(e, c, o);
            else if (c->draining) drain(e, c, o);
            break;
        }
    }
    if (e->draining > 0) {
        int64_t now = now_ms();
        for (int i = 0; i < e->cap && room(o) >= RESERVE; i++)
            if (e->c[i].id && e->c[i].draining && now >= e->c[i].drain_until) finish(e, &e->c[i], o);
    }
    if (e->need_reply > 0) take_replies(e, o);
    replies_update(e);
}

/* The server stops: only exits and stderr are watched from now on. */
static void stopping(struct engine *e) {
    e->stopping = 1;
    close_listener(e);
    for (int i = 0; i < e->cap; i++) {
        struct econn *c = &e->c[i];
        if (!c->id) continue;
        if (c->out_r >= 0 && !c->pend) watch(e, EPOLL_CTL_DEL, c->out_r, 0, 0);
        sock_watch(e, c, 0);
    }
    replies_update(e);
}

static struct engine *create(const struct exec_params *p) {
    struct engine *e = calloc(1, sizeof *e);
    if (!e) return 0;
    int rep[2];
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0 || pipe2(rep, O_CLOEXEC) < 0) {
        if (e->epfd >= 0) close(e->epfd);
        free(e);
        return 0;
    }
    e->rep_r = rep[0];
    e->rep_w = rep[1];
    nonblocking(e->rep_r);
    e->lfd = p->lfd;
    e->listening = 1;
    e->keep_open = p->keep_open;
    e->max = p->max;
    e->linger = p->linger;
    e->env_count = p->env_count;
    e->file = p->file;
    e->argv = p->argv;
    e->env = p->env;
    e->next_id = 1;
    listen_update(e);
    return e;
}

/* Everything the TypeScript side asks of an engine, by p->op. Returns the engine's epoll fd for OP_NEW, else 0; -errno on failure. */
int ipcctl_exec_engine(struct exec_params *p) {
    struct out o = { p->out, p->out ? (size_t)p->out_size : 0, 0 };
    struct engine *e = p->engine;
    int ret = 0;
    if (p->op == OP_NEW) {
        if (ipcctl_job_fd < 0) return -EINVAL;
        e = create(p);
        if (!e) return -(errno ? errno : ENOMEM);
        p->engine = e;
        ret = e->epfd;
    } else if (!e) {
        return -EINVAL;
    }
    e->progress = 0;
    switch (p->op) {
    case OP_RUN:
        /* arg: how long to wait for something to happen (ms). */
        run(e, &o, p->arg);
        break;
    case OP_CLOSE_LISTENER:
        close_listener(e);
        break;
    case OP_STOPPING:
        stopping(e);
        break;
    case OP_SIGNAL:
        for (int i = 0; i < e->cap; i++)
            if (e->c[i].id && e->c[i].started && !e->c[i].exited) kill(e->c[i].pid, p->arg);
        break;
    case OP_FINISH_ALL:
        for (int i = 0; i < e->cap && room(&o) >= RESERVE; i++)
            if (e->c[i].id) {
                if (e->c[i].err == 0) e->c[i].err = ERR_STOPPED;
                finish(e, &e->c[i], &o);
            }
        break;
    case OP_FREE:
        close_listener(e);
        close(e->epfd);
        close(e->rep_r);
        close(e->rep_w);
        free(e->c);
        free(e);
        p->engine = 0;
        p->used = 0;
        return 0;
    }
    p->used = (int32_t)o.used;
    p->active = e->active;
    p->listening = e->listening;
    p->pending = e->pending;
    p->running = e->running;
    p->draining = e->draining;
    p->fatal = e->fatal;
    p->progress = e->progress;
    e->fatal = 0;
    return ret;
}

_Static_assert(sizeof(struct exec_params) == 104, "struct exec_params is 104 bytes");
_Static_assert(sizeof(struct rec_head) == 16, "a record header is 16 bytes");
