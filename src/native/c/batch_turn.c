/*
 * One turn of `ipcctl batch` between two commands, in one FFI call: the
 * reply of the command that just ran (its stdout and stderr are in the
 * batch's two in-memory files) framed and written, the files emptied for
 * the next command, then the next input read when it comes within a short
 * wait.
 *
 * Why C: a coprocess sends a line, waits for its reply, sends the next. In
 * that ping-pong each turn of the batch starts with cold caches (the shell
 * ran in between), and the TypeScript turn (poll through ffi-rs, read,
 * two preads of the captures, escaping, a template string, write, and for
 * output an ftruncate and an lseek through ffi-rs) cost several times what
 * it costs when the lines come from a file. Here it is a handful of system
 * calls. No policy lives here: the framing is src/output/batch-reply.ts's
 * (this file must give the same bytes; IPCCTL_NO_C_HELPER=1 runs that one),
 * and what happens when no input came within the wait, or after a failure,
 * is decided by the caller (src/ipc/batch/engine.ts).
 *
 * The reply: EXIT|STDOUT|STDERR\n, STDOUT and STDERR escaped for printf
 * '%b': `\` is `\\`, newline `\n`, tab `\t`, carriage return `\r`, `|` and
 * every other byte below 0x20 or 0x7f is `\0` and three octal digits; every
 * other byte is itself. Written whole (a partial write is continued; EAGAIN
 * on a non-blocking output waits 1 ms, as the TypeScript writer does).
 *
 * The wait: a short look for input (look_for_input, below), then poll(2)
 * on the input for up to wait_ms; a signal (EINTR) or nothing within the
 * wait returns TURN_NONE, and the caller waits on a pool thread, where its
 * signal handlers can run.
 *
 * Built by `npm run build` when a C compiler is present.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

/* struct turn, 64 bytes, as src/native/batch-turn.ts lays it out. */
struct turn {
  int32_t in_fd;     /* 0: where the commands come from */
  int32_t reply_fd;  /* 4: where replies go */
  int32_t out_fd;    /* 8: the in-memory file behind fd 1 */
  int32_t err_fd;    /* 12: the in-memory file behind fd 2 */
  int32_t exit_code; /* 16: the reply's exit code */
  int32_t op;        /* 20: TURN_REPLY and/or TURN_READ */
  int32_t wait_ms;   /* 24: how long to poll for input */
  int32_t fail_at;   /* 28: out: which step failed (FAIL_*) */
  int64_t in_buf;    /* 32: where input is read to */
  int64_t in_cap;    /* 40: its size */
  int32_t err;       /* 48: out: errno of the failure */
  int32_t pad;       /* 52 */
  int64_t spare;     /* 56 */
};

#define TURN_REPLY 1
#define TURN_READ 2

/* Results (otherwise: bytes of input read, 0 at EOF). */
#define TURN_FAILED (-1)
#define TURN_NONE (-2)
#define TURN_REPLIED (-3)

#define FAIL_WRITE 1
#define FAIL_POLL 2
#define FAIL_READ 3
#define FAIL_CAPTURE 4

static int fail(struct turn *t, int at) {
  t->fail_at = at;
  t->err = errno;
  return TURN_FAILED;
}

/* The whole of [p, p+n) to fd; 0, or -1 with errno. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        /* A non-blocking output inherited from the parent: wait, do not spin. */
        poll(NULL, 0, 1);
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The reply is built here and written when full and at its end. */
#define OUT_CAP 65536
struct sink {
  int fd;
  size_t used;
  char buf[OUT_CAP];
};

static int flush(struct sink *s) {
  int r = write_all(s->fd, s->buf, s->used);
  s->used = 0;
  return r;
}

/* Room for `n` more bytes; 0, or -1 with errno when a write failed. */
static int room(struct sink *s, size_t n) {
  return s->used + n > OUT_CAP ? flush(s) : 0;
}

static const char OCT[] = "01234567";

/* Bytes that go out as themselves (see the top of this file). */
static int plain(unsigned char b) {
  return (b >= 0x20 && b < 0x7f && b != '\\' && b != '|') || b >= 0x80;
}

static int put_escaped(struct sink *s, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (room(s, 5) < 0) return -1;
    unsigned char b = p[i];
    char *o = s->buf + s->used;
    if (plain(b)) {
      *o = (char)b;
      s->used += 1;
      continue;
    }
    o[0] = '\\';
    switch (b) {
      case '\n': o[1] = 'n'; s->used += 2; break;
      case '\t': o[1] = 't'; s->used += 2; break;
      case '\r': o[1] = 'r'; s->used += 2; break;
      case '\\': o[1] = '\\'; s->used += 2; break;
      default:
        o[1] = '0';
        o[2] = OCT[(b >> 6) & 7];
        o[3] = OCT[(b >> 3) & 7];
        o[4] = OCT[b & 7];
        s->used += 5;
    }
  }
  return 0;
}

/*
 * Escape what the command wrote to the in-memory file `fd` into the sink,
 * then empty the file and put its offset (shared with fd 1 or 2) back at 0,
 * as src/ipc/batch/capture.ts does. (Appending each command's output after
 * the last one's would spare the kernel a page freed and zeroed again per
 * command, about 5 us; but a child that reopens /dev/stdout, truncating it,
 * would then leave its command's reply indistinguishable from stale bytes.)
 * Returns 0, -1 (errno) when the write failed, -2 (errno) when the file did.
 */
static int drain(struct sink *s, int fd) {
  static unsigned char chunk[16384];
  off_t at = 0;
  for (;;) {
    ssize_t n = pread(fd, chunk, sizeof chunk, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -2;
    }
    if (n == 0) break;
    if (put_escaped(s, chunk, (size_t)n) < 0) return -1;
    at += n;
  }
  if (at > 0 && (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)) return -2;
  return 0;
}

static struct sink sink;

static int reply(struct turn *t) {
  struct sink *s = &sink;
  s->fd = t->reply_fd;
  s->used = (size_t)snprintf(s->buf, 16, "%d|", t->exit_code);
  int r = drain(s, t->out_fd);
  if (r == 0) {
    if (room(s, 1) < 0) return fail(t, FAIL_WRITE);
    s->buf[s->used++] = '|';
    r = drain(s, t->err_fd);
  }
  if (r == 0) {
    if (room(s, 1) < 0) return fail(t, FAIL_WRITE);
    s->buf[s->used++] = '\n';
    if (flush(s) == 0) return 0;
    r = -1;
  }
  if (r == -2) {
    int e = errno;
    s->used = 0;
    errno = e;
    return fail(t, FAIL_CAPTURE);
  }
  s->used = 0;
  return fail(t, FAIL_WRITE);
}

/*
 * Before sleeping in poll: look for the next line for up to LOOK_NS. On a
 * machine whose other CPU is idle the scheduler puts the shell on it, and
 * a ping-pong between two CPUs pays for waking a halted CPU at each line
 * (on this project's VMs the floor of bash and a C responder is 30 us per
 * round trip on one CPU, 70-90 us across two, and the batch's own CPU time
 * grows by half). While we look, our CPU does not halt and the shell's next
 * line needs no wake-up. sched_yield() between looks lets a shell that
 * shares our CPU run its turn first (then the line is there at the next
 * look). Measured, counter loop of bench/batch.bench.mjs: 203 -> 137 us/op
 * across CPUs, 136 -> 126 on one. What it can waste is LOOK_NS per line
 * that takes longer to come.
 */
#define LOOK_NS 200000L
static int look_for_input(struct pollfd *p) {
  struct timespec from, now;
  clock_gettime(CLOCK_MONOTONIC, &from);
  for (;;) {
    int ready = poll(p, 1, 0);
    if (ready != 0) return ready;
    sched_yield();
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - from.tv_sec) * 1000000000L + (now.tv_nsec - from.tv_nsec) > LOOK_NS) return 0;
  }
}

long ipcctl_batch_turn(struct turn *t) {
  t->fail_at = 0;
  t->err = 0;
  if ((t->op & TURN_REPLY) && reply(t) < 0) return TURN_FAILED;
  if (!(t->op & TURN_READ)) return TURN_REPLIED;
  struct pollfd p = {.fd = t->in_fd, .events = POLLIN};
  int ready = look_for_input(&p);
  if (ready == 0) ready = poll(&p, 1, t->wait_ms);
  if (ready < 0) return errno == EINTR ? TURN_NONE : fail(t, FAIL_POLL);
  if (ready == 0) return TURN_NONE;
  ssize_t n = read(t->in_fd, (void *)(intptr_t)t->in_buf, (size_t)t->in_cap);
  if (n < 0) return errno == EAGAIN || errno == EINTR ? TURN_NONE : fail(t, FAIL_READ);
  return n;
}

/*
 * The same on a struct turn the helper owns: a call without arguments
 * costs ffi-rs about 2 us less than one with a pointer.
 */
static struct turn own_turn;

void *ipcctl_batch_turn_params(void) { return &own_turn; }

long ipcctl_batch_turn_own(void) { return ipcctl_batch_turn(&own_turn); }

/*
 * Calls without ffi-rs's per-argument cost. ffi-rs reads and converts each
 * argument of a call through N-API (measured here: 2.2 us for getpid, 5-6
 * us for lseek's three arguments); a batch makes one or two such calls per
 * command (semop, shmctl IPC_STAT). Through this slot a call is one FFI
 * call without arguments: the caller (src/native/bind.ts) writes the
 * function's address and its integer arguments into the slot, calls
 * ipcctl_call(), and reads the result and errno from the slot. Only for
 * functions that take integers and pointers and return an integer (every
 * argument travels in a 64-bit register on x86-64 and aarch64 alike; the
 * caller narrows the result to the declared return type).
 */
#include <dlfcn.h>

struct call_slot {
  int64_t fn;
  int64_t args[6];
  int64_t ret;
  int32_t err;
  int32_t pad;
};

static struct call_slot slot;

typedef int64_t (*fn6)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);

int64_t ipcctl_call(void) {
  fn6 f = (fn6)(intptr_t)slot.fn;
  errno = 0;
  slot.ret = f(slot.args[0], slot.args[1], slot.args[2], slot.args[3], slot.args[4], slot.args[5]);
  slot.err = errno;
  return 0;
}

/** Where the slot is (read once). */
void *ipcctl_call_slot(void) { return &slot; }

/** The address of a libc function, or NULL. */
void *ipcctl_symbol(const char *name) { return dlsym(RTLD_DEFAULT, name); }
