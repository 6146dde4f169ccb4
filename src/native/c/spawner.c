/*
 * The spawner threads of `serve --exec`: posix_spawn(3) off the main thread.
 * glibc's posix_spawn suspends its calling thread until the child has
 * exec'd (clone with CLONE_VFORK), about a millisecond per child; here that
 * wait is this thread's, and the main thread (Node, our poll loop) goes on
 * serving. Requests come as fixed-size records on one pipe, replies go back
 * on another, which the poll loop watches, so a reply wakes it at once.
 * The strings, arrays and fds of a request stay valid until its reply: the
 * caller keeps them.
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>

struct request {
    uint64_t id;
    const char *file;
    char *const *argv;
    char *const *envp;
    int32_t fd[3];
    int32_t pad;
};

struct reply {
    uint64_t id;
    int32_t pid;
    int32_t err;
};

static int req_fd = -1, rep_fd = -1;

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
    posix_spawnattr_t attr;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    /* The child starts with default signal handling and nothing blocked:
       Node ignores SIGPIPE, and an ignored signal survives exec. */
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    struct request q;
    while (full_read(req_fd, &q, sizeof q) == 0) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        for (int i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&fa, q.fd[i], i);
        pid_t pid = -1;
        int err = posix_spawn(&pid, q.file, &fa, &attr, q.argv, q.envp);
        posix_spawn_file_actions_destroy(&fa);
        struct reply r = { q.id, err ? -1 : pid, err };
        while (write(rep_fd, &r, sizeof r) < 0 && errno == EINTR) {}
    }
    posix_spawnattr_destroy(&attr);
    return 0;
}

/* Start `threads` threads on the read end of the request pipe and the write
   end of the reply pipe: each child's exec then overlaps the next one's
   spawn. Requests (48 bytes) and replies (16) are written whole, and pipe
   I/O of at most PIPE_BUF bytes is atomic, so the threads never see half a
   record. Returns 0, or an errno value (when not even one thread started). */
int ipcctl_spawner_start(int requests, int replies, int threads) {
    req_fd = requests;
    rep_fd = replies;
    pthread_attr_t a;
    sigset_t all, old;
    int started = 0, err = 0;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256 * 1024);
    /* The threads block every signal, so signals keep going to Node's thread. */
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
