/* The process jail of the sandboxed restricted loader: runs a function in a
 * forked child under rlimits, no descriptors but the reply pipe, no new
 * privileges and a seccomp filter that allows only what a malloc-using
 * computation needs; the parent reads the reply against a wall-clock
 * deadline and a size cap, reaps the child and says how it ended.
 * docs/SANDBOX.md describes the threat model and every allowed syscall. */
#ifndef PKS_JAIL_H
#define PKS_JAIL_H

#include <stddef.h>
#include <stdint.h>

typedef enum pks_jail_status {
    PKS_JAIL_OK = 0,          /* child exited 0 and its reply was read whole */
    PKS_JAIL_TIMEOUT,         /* wall-clock timeout: parent killed it (SIGKILL) */
    PKS_JAIL_SYSCALL,         /* killed by seccomp (SIGSYS): a forbidden system call */
    PKS_JAIL_CRASHED,         /* killed by another signal (SIGSEGV, SIGABRT, ...) */
    PKS_JAIL_CPU,             /* SIGXCPU / RLIMIT_CPU reached */
    PKS_JAIL_MEMORY,          /* child exited with PKS_JAIL_EXIT_NOMEM (allocation failed
                               * under RLIMIT_AS) */
    PKS_JAIL_REPLY_TOO_LARGE, /* reply exceeded max_reply: parent killed it */
    PKS_JAIL_FAILED,          /* child exited non-zero otherwise */
    PKS_JAIL_SETUP            /* the parent could not set up (pipe/fork failed) or the
                               * child could not install the jail */
} pks_jail_status;

#define PKS_JAIL_EXIT_NOMEM 99
#define PKS_JAIL_EXIT_SETUP 98

typedef struct pks_jail_opts {
    unsigned timeout_ms;  /* wall clock, default 10000; 0: no wall-clock limit */
    size_t max_reply;     /* bytes, default 64 MiB */
    uint64_t max_memory;  /* RLIMIT_AS bytes, default 4 GiB; 0: not set (sanitizer builds) */
    unsigned cpu_seconds; /* RLIMIT_CPU, default 10; 0: not set */
    /* 1: install the filter (default); 0: rlimits etc. only (for sanitizer builds;
     * --no-sandbox still uses no fork at all: that is the caller's business) */
    int seccomp;
} pks_jail_opts;

void pks_jail_defaults(pks_jail_opts *o);

/* Runs fn(ctx, fd) in a forked child; fn writes its reply to fd with
 * pks_jail_write and returns 0 on success (non-zero exit code otherwise:
 * 1..255 as is, anything else as 1; 98 and 99 are reserved, see above).
 * Under the filter fn may only compute, allocate and write to fd: no I/O on
 * other descriptors, no files, no signals, no threads, no stdio. Memory
 * mapped before the call (the input) stays readable in the child, and
 * counts against max_memory (RLIMIT_AS covers the whole address space). */
typedef int (*pks_jail_fn)(void *ctx, int fd);

typedef struct pks_jail_result {
    pks_jail_status status;
    int signal;    /* terminating signal, or 0 */
    int exit_code; /* exit status, or -1 */
    /* malloc'd, NUL-terminated, reply_len bytes (may be partial on failure); caller frees */
    char *reply;
    size_t reply_len;
    /* human-readable: "killed by seccomp: forbidden system call",
     * "timed out after 10000 ms", ... */
    char detail[200];
} pks_jail_result;

/* Returns 0 when status==OK, else -1; r always filled (r->reply is NULL only
 * when the parent ran out of memory). o NULL means the defaults. The caller
 * must not ignore SIGCHLD (SIG_IGN would make the child unreapable). */
int pks_jail_run(const pks_jail_opts *o, pks_jail_fn fn, void *ctx, pks_jail_result *r);

/* Loops over partial writes; 0 ok, -1 error. */
int pks_jail_write(int fd, const void *buf, size_t n);

/* For the child side: an allocation failed; ends the child with
 * PKS_JAIL_EXIT_NOMEM (reported as PKS_JAIL_MEMORY). */
_Noreturn void pks_jail_nomem(void);

/* "ok", "timeout", "syscall", "crashed", "cpu", "memory", "reply-too-large",
 * "failed", "setup" */
const char *pks_jail_status_name(pks_jail_status s);

#endif
