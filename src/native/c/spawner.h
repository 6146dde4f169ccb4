/* What spawner.c and exec_engine.c share: the job record the spawner
   threads read, the reply they write, and the pipe jobs go into. */
#ifndef IPCCTL_SPAWNER_H
#define IPCCTL_SPAWNER_H
#include <stdint.h>

/* One child to start (64 bytes; src/native/spawn.ts writes the same layout). */
struct job {
    uint64_t id;
    const char *file;
    char *const *argv;
    char *const *envp;
    int32_t fd[3];       /* the child's 0, 1, 2 */
    int32_t close_fd[2]; /* our copies of the child's ends, closed once it runs (-1: none) */
    int32_t owns_env;    /* envp is one malloc'ed block of ours: free it after the spawn */
    int32_t reply_fd;    /* where its reply goes; -1: the reply pipe of ipcctl_spawner_start */
    int32_t pad;
};

/* 24 bytes. pidfd is -1 when the kernel has no CLONE_PIDFD (then the caller opens one). */
struct reply {
    uint64_t id;
    int32_t pid;
    int32_t err;
    int32_t pidfd;
    int32_t pad;
};

/* The write end of the job pipe (-1 before ipcctl_spawner_start). */
extern int ipcctl_job_fd;

#endif
