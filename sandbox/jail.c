/* The process jail: fork, confine the child (parent-death signal, only the
 * reply pipe open, rlimits, no new privileges, dumpable off, seccomp filter
 * last), run the caller's function there, and in the parent read its reply
 * with poll() against a CLOCK_MONOTONIC deadline and a size cap, SIGKILL it
 * on timeout or oversize, reap it and classify how it ended. See
 * docs/SANDBOX.md for the threat model and the allowed system calls. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The child's reply descriptor: the pipe's write end is moved here, every
 * other descriptor (0, 1 and 2 included) is closed. */
#define REPLY_FD 3

/* First size of the parent's reply buffer. */
#define REPLY_CHUNK ((size_t)65536)

void pks_jail_defaults(pks_jail_opts *o)
{
    o->timeout_ms = 10000;
    o->max_reply = (size_t)64 << 20;
    o->max_memory = (uint64_t)4 << 30;
    o->cpu_seconds = 10;
    o->seccomp = 1;
}

const char *pks_jail_status_name(pks_jail_status s)
{
    switch (s) {
    case PKS_JAIL_OK: return "ok";
    case PKS_JAIL_TIMEOUT: return "timeout";
    case PKS_JAIL_SYSCALL: return "syscall";
    case PKS_JAIL_CRASHED: return "crashed";
    case PKS_JAIL_CPU: return "cpu";
    case PKS_JAIL_MEMORY: return "memory";
    case PKS_JAIL_REPLY_TOO_LARGE: return "reply-too-large";
    case PKS_JAIL_FAILED: return "failed";
    case PKS_JAIL_SETUP: return "setup";
    }
    return "unknown";
}

int pks_jail_write(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

_Noreturn void pks_jail_nomem(void)
{
    _exit(PKS_JAIL_EXIT_NOMEM);
}

/* ---- child side ------------------------------------------------------- */

/* Moves the pipe's write end to REPLY_FD and closes everything else. */
static int child_fds(int wfd)
{
    if (wfd != REPLY_FD && dup2(wfd, REPLY_FD) != REPLY_FD)
        return -1;
    for (int fd = 0; fd < REPLY_FD; fd++)
        close(fd);
    if (close_range(REPLY_FD + 1, ~0U, 0) != 0) {
        struct rlimit rl;
        long max = 1024;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur < 1048576)
            max = (long)rl.rlim_cur;
        for (long fd = REPLY_FD + 1; fd < max; fd++)
            close((int)fd);
    }
    return 0;
}

/* Signals as the kernel delivers them: none blocked, every disposition the
 * default, so that a fault kills the child with its own signal (a handler
 * inherited from the parent, cmocka's or a sanitizer's, would run into the
 * filter and turn every crash into SIGSYS), and SIGXCPU is fatal. */
static int child_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        /* glibc reserves a few real-time signals (EINVAL): not ours. */
        if (sigaction(sig, &sa, NULL) != 0 && errno != EINVAL)
            return -1;
    }
    return 0;
}

static int child_limits(const pks_jail_opts *o)
{
    if (o->cpu_seconds) {
        /* SIGXCPU at the soft limit, SIGKILL a second later. */
        struct rlimit cpu = {.rlim_cur = o->cpu_seconds, .rlim_max = (rlim_t)o->cpu_seconds + 1};
        if (setrlimit(RLIMIT_CPU, &cpu) != 0)
            return -1;
    }
    if (o->max_memory) {
        struct rlimit as = {.rlim_cur = (rlim_t)o->max_memory, .rlim_max = (rlim_t)o->max_memory};
        if (setrlimit(RLIMIT_AS, &as) != 0)
            return -1;
    }
    /* No new descriptors at all (the reply pipe, already open, still works),
     * no processes, no file growth, no core files. */
    const struct rlimit zero = {.rlim_cur = 0, .rlim_max = 0};
    if (setrlimit(RLIMIT_NOFILE, &zero) != 0 || setrlimit(RLIMIT_NPROC, &zero) != 0 ||
        setrlimit(RLIMIT_FSIZE, &zero) != 0 || setrlimit(RLIMIT_CORE, &zero) != 0)
        return -1;
    return 0;
}

/* The filter: everything not listed kills the process. */
static int child_seccomp(void)
{
    uint32_t deflt = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
    scmp_filter_ctx f = seccomp_init(deflt);
    if (!f)
        return -1;
    int rc = 0;
    /* The reply, and nothing else. */
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
                           SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)REPLY_FD, 0));
    /* Ending. */
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
    /* malloc: the heap (brk), large blocks and arenas (mmap, munmap, mremap
     * for realloc, mprotect to commit arena pages, madvise to give pages
     * back). Never executable memory: mmap/mprotect only with PROT_EXEC
     * clear (pkey_mprotect is not allowed at all). */
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(brk), 0);
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)PROT_EXEC, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)PROT_EXEC, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(munmap), 0);
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mremap), 0);
    /* madvise only with the advice malloc gives (MADV_HWPOISON and the
     * like would be open to a child that runs as root). */
    static const int advice[] = {MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE, MADV_NOHUGEPAGE};
    for (size_t i = 0; i < sizeof advice / sizeof advice[0]; i++)
        rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(madvise), 1,
                               SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)advice[i], 0));
    /* No rt_sigreturn: the child has no signal handlers (child_signals()),
     * so it is never needed, and it is the sigreturn-oriented programming
     * primitive. */
    if (rc == 0)
        rc = seccomp_load(f);
    seccomp_release(f);
    return rc == 0 ? 0 : -1;
}

static _Noreturn void child_main(const pks_jail_opts *o, pks_jail_fn fn, void *ctx, int wfd,
                                 pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
        _exit(PKS_JAIL_EXIT_SETUP);
    if (child_fds(wfd) != 0)
        _exit(PKS_JAIL_EXIT_SETUP);
    if (child_signals() != 0)
        _exit(PKS_JAIL_EXIT_SETUP);
    if (child_limits(o) != 0)
        _exit(PKS_JAIL_EXIT_SETUP);
    /* No core dumps (also through a core_pattern pipe) and no ptrace attach
     * by other processes of the same user. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        _exit(PKS_JAIL_EXIT_SETUP);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        _exit(PKS_JAIL_EXIT_SETUP);
    if (o->seccomp && child_seccomp() != 0)
        _exit(PKS_JAIL_EXIT_SETUP);
    int rc = fn(ctx, REPLY_FD);
    /* _exit: no atexit handlers, no flushing of stdio buffers copied from
     * the parent (fd 1 is closed, and write(1) is forbidden). */
    _exit(rc == 0 ? 0 : rc > 0 && rc < 256 ? rc : 1);
}

/* ---- parent side ------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Milliseconds left before deadline (rounded up), -1 for no deadline. */
static int ms_left(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void fill_setup(pks_jail_result *r, const char *what, int err)
{
    r->status = PKS_JAIL_SETUP;
    snprintf(r->detail, sizeof r->detail, "jail set-up failed: %s: %s", what, strerror(err));
}

/* Reaps pid, EINTR-safe; waits at most until deadline unless it is -1 (then
 * blocks). Returns 1 when reaped, 0 when the deadline passed, -1 on error. */
static int reap(pid_t pid, int64_t deadline, int *status, struct rusage *ru)
{
    long sleep_ns = 1000000;
    for (;;) {
        pid_t w = wait4(pid, status, deadline < 0 ? 0 : WNOHANG, ru);
        if (w == pid)
            return 1;
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (ms_left(deadline) == 0)
            return 0;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = sleep_ns};
        nanosleep(&ts, NULL);
        if (sleep_ns < 20000000)
            sleep_ns *= 2;
    }
}

/* Reads the child's reply until EOF, the deadline or the cap. Returns the
 * status that made the parent stop early (TIMEOUT, REPLY_TOO_LARGE, SETUP)
 * or OK at EOF. */
static pks_jail_status read_reply(int rfd, const pks_jail_opts *o, int64_t deadline,
                                  pks_jail_result *r, int *err)
{
    size_t max = o->max_reply > SIZE_MAX - 2 ? SIZE_MAX - 2 : o->max_reply;
    size_t cap = 1;
    struct pollfd pfd = {.fd = rfd, .events = POLLIN};
    for (;;) {
        int wait = ms_left(deadline);
        if (wait == 0)
            return PKS_JAIL_TIMEOUT;
        int pr = poll(&pfd, 1, wait);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            return PKS_JAIL_SETUP;
        }
        if (pr == 0)
            continue; /* ms_left() says whether the deadline passed */
        /* Room for one byte over the cap (to see it) and the NUL. */
        if (r->reply_len + 1 >= cap) {
            size_t ncap = cap < REPLY_CHUNK ? REPLY_CHUNK : cap * 2;
            if (ncap > max + 2 || ncap < cap)
                ncap = max + 2;
            char *n = realloc(r->reply, ncap);
            if (!n) {
                *err = ENOMEM;
                return PKS_JAIL_SETUP;
            }
            r->reply = n;
            cap = ncap;
        }
        size_t room = cap - 1 - r->reply_len;
        ssize_t got = read(rfd, r->reply + r->reply_len, room);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            *err = errno;
            return PKS_JAIL_SETUP;
        }
        if (got == 0)
            return PKS_JAIL_OK;
        r->reply_len += (size_t)got;
        if (r->reply_len > max) {
            r->reply_len = max;
            return PKS_JAIL_REPLY_TOO_LARGE;
        }
    }
}

static void classify(pks_jail_result *r, const pks_jail_opts *o, pks_jail_status killed, int st,
                     const struct rusage *ru)
{
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        const char *name = sigabbrev_np(sig);
        r->signal = sig;
        struct timeval cpu = ru->ru_utime;
        cpu.tv_sec += ru->ru_stime.tv_sec + (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000000;
        if (sig == SIGKILL && killed == PKS_JAIL_TIMEOUT) {
            r->status = PKS_JAIL_TIMEOUT;
            snprintf(r->detail, sizeof r->detail, "timed out after %u ms", o->timeout_ms);
        } else if (sig == SIGKILL && killed == PKS_JAIL_REPLY_TOO_LARGE) {
            r->status = PKS_JAIL_REPLY_TOO_LARGE;
            snprintf(r->detail, sizeof r->detail, "reply exceeded %zu bytes", o->max_reply);
        } else if (sig == SIGKILL && killed == PKS_JAIL_SETUP) {
            r->status = PKS_JAIL_SETUP;
        } else if (sig == SIGSYS) {
            r->status = PKS_JAIL_SYSCALL;
            snprintf(r->detail, sizeof r->detail, "killed by seccomp: forbidden system call");
        } else if (sig == SIGXCPU ||
                   (sig == SIGKILL && o->cpu_seconds && cpu.tv_sec >= (time_t)o->cpu_seconds)) {
            r->status = PKS_JAIL_CPU;
            snprintf(r->detail, sizeof r->detail, "CPU time limit reached (%u s)", o->cpu_seconds);
        } else {
            r->status = PKS_JAIL_CRASHED;
            snprintf(r->detail, sizeof r->detail, "killed by signal %d (SIG%s)", sig,
                     name ? name : "?");
        }
        return;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->exit_code = code;
    if (killed == PKS_JAIL_TIMEOUT) {
        r->status = PKS_JAIL_TIMEOUT;
        snprintf(r->detail, sizeof r->detail, "timed out after %u ms", o->timeout_ms);
    } else if (killed == PKS_JAIL_REPLY_TOO_LARGE) {
        r->status = PKS_JAIL_REPLY_TOO_LARGE;
        snprintf(r->detail, sizeof r->detail, "reply exceeded %zu bytes", o->max_reply);
    } else if (killed == PKS_JAIL_SETUP) {
        r->status = PKS_JAIL_SETUP;
    } else if (code == 0) {
        r->status = PKS_JAIL_OK;
        snprintf(r->detail, sizeof r->detail, "ok, %zu-byte reply", r->reply_len);
    } else if (code == PKS_JAIL_EXIT_NOMEM) {
        r->status = PKS_JAIL_MEMORY;
        snprintf(r->detail, sizeof r->detail, "out of memory (limit %llu bytes)",
                 (unsigned long long)o->max_memory);
    } else if (code == PKS_JAIL_EXIT_SETUP) {
        r->status = PKS_JAIL_SETUP;
        snprintf(r->detail, sizeof r->detail, "the child could not install the jail");
    } else {
        r->status = PKS_JAIL_FAILED;
        snprintf(r->detail, sizeof r->detail, "exited with status %d", code);
    }
}

int pks_jail_run(const pks_jail_opts *o, pks_jail_fn fn, void *ctx, pks_jail_result *r)
{
    pks_jail_opts defaults;
    if (!o) {
        pks_jail_defaults(&defaults);
        o = &defaults;
    }
    memset(r, 0, sizeof *r);
    r->exit_code = -1;
    r->reply = malloc(1);
    if (!r->reply) {
        fill_setup(r, "malloc", ENOMEM);
        return -1;
    }
    r->reply[0] = '\0';
    if (!fn) {
        fill_setup(r, "no function", EINVAL);
        return -1;
    }

    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        fill_setup(r, "pipe", errno);
        return -1;
    }
    int64_t deadline = o->timeout_ms ? now_ns() + (int64_t)o->timeout_ms * 1000000 : -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(p[0]);
        close(p[1]);
        fill_setup(r, "fork", err);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        child_main(o, fn, ctx, p[1], parent);
    }
    close(p[1]);

    int err = 0;
    pks_jail_status killed = read_reply(p[0], o, deadline, r, &err);
    r->reply[r->reply_len] = '\0';
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int reaped = 0;
    if (killed == PKS_JAIL_OK) {
        /* EOF: the child is exiting; it still gets until the deadline. */
        reaped = reap(pid, deadline, &st, &ru);
        if (reaped == 0)
            killed = PKS_JAIL_TIMEOUT;
    }
    if (killed != PKS_JAIL_OK)
        kill(pid, SIGKILL);
    close(p[0]);
    if (reaped == 0)
        reaped = reap(pid, -1, &st, &ru);
    if (killed == PKS_JAIL_SETUP)
        fill_setup(r, "reading the reply", err);
    if (reaped < 0) {
        fill_setup(r, "waitpid", errno);
        return -1;
    }
    classify(r, o, killed, st, &ru);
    return r->status == PKS_JAIL_OK ? 0 : -1;
}
