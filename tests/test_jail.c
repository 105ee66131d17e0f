/* The process jail (sandbox/jail.c): every forbidden system call a hostile
 * loader could try (files, sockets, exec, fork/clone, ptrace, writes to
 * another descriptor, executable memory) kills the child with SIGSYS; a
 * normal allocating child replies exactly; timeouts, crashes, CPU and
 * memory limits and oversized replies are classified; only the reply pipe
 * is open in the child; no zombies are left. Seccomp tests are skipped in
 * sanitizer builds (the sanitizer runtimes need system calls the filter
 * forbids); the rest then runs with seccomp=0 and no RLIMIT_AS. */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Options for these tests: short timeout; in sanitizer builds no filter and
 * no RLIMIT_AS (ASan reserves terabytes of shadow address space). */
static pks_jail_opts opts(void)
{
    pks_jail_opts o;
    pks_jail_defaults(&o);
    o.timeout_ms = 5000;
    if (SANITIZED) {
        o.seccomp = 0;
        o.max_memory = 0;
    }
    return o;
}

static pks_jail_status run(const pks_jail_opts *o, pks_jail_fn fn, void *ctx, pks_jail_result *r)
{
    int rc = pks_jail_run(o, fn, ctx, r);
    assert_non_null(r->reply);
    assert_int_equal(r->reply[r->reply_len], '\0');
    assert_int_equal(rc, r->status == PKS_JAIL_OK ? 0 : -1);
    return r->status;
}

/* Runs fn under the real filter and expects SIGSYS. */
static void expect_killed(pks_jail_fn fn)
{
    if (SANITIZED)
        skip();
    pks_jail_opts o = opts();
    pks_jail_result r;
    pks_jail_status s = run(&o, fn, NULL, &r);
    if (s != PKS_JAIL_SYSCALL)
        print_error("status %s: %s\n", pks_jail_status_name(s), r.detail);
    assert_int_equal(s, PKS_JAIL_SYSCALL);
    assert_int_equal(r.signal, SIGSYS);
    assert_int_equal(r.exit_code, -1);
    assert_non_null(strstr(r.detail, "seccomp"));
    /* The child reached the forbidden call (its first write was allowed). */
    assert_string_equal(r.reply, "before");
    free(r.reply);
}

static void say_before(int fd)
{
    if (pks_jail_write(fd, "before", 6) != 0)
        _exit(3);
}

/* ---- forbidden system calls ------------------------------------------- */

static int child_open(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    int f = open("/etc/passwd", O_RDONLY);
    return f >= 0 ? 10 : 11;
}

static int child_openat(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    long f = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
    return f >= 0 ? 10 : 11;
}

#ifdef SYS_open
static int child_sys_open(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    long f = syscall(SYS_open, "/etc/passwd", O_RDONLY);
    return f >= 0 ? 10 : 11;
}
#endif

static int child_socket(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    return s >= 0 ? 10 : 11;
}

static int child_execve(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    char *const argv[] = {(char *)(uintptr_t) "true", NULL};
    char *const envp[] = {NULL};
    execve("/bin/true", argv, envp);
    return 11;
}

static int child_fork(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    return p > 0 ? 10 : 11;
}

static int child_clone(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    long p = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
    if (p == 0)
        _exit(0);
    return p > 0 ? 10 : 11;
}

#ifdef SYS_clone3
static int child_clone3(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    uint64_t args[11];
    memset(args, 0, sizeof args);
    args[4] = SIGCHLD; /* exit_signal */
    long p = syscall(SYS_clone3, args, sizeof args);
    if (p == 0)
        _exit(0);
    return p > 0 ? 10 : 11;
}
#endif

static int child_vfork(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    long p = syscall(SYS_vfork);
    if (p == 0)
        _exit(0);
    return p > 0 ? 10 : 11;
}

static int child_ptrace(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    long p = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    return p == 0 ? 10 : 11;
}

static int child_write_other(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    ssize_t w = write(2, "x", 1);
    return w == 1 ? 10 : 11;
}

static int child_dup(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    int d = dup(fd);
    return d >= 0 ? 10 : 11;
}

static int child_mprotect_exec(void *ctx, int fd)
{
    (void)ctx;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 12;
    say_before(fd);
    int rc = mprotect(m, 4096, PROT_READ | PROT_EXEC);
    return rc == 0 ? 10 : 11;
}

static int child_mmap_exec(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m != MAP_FAILED ? 10 : 11;
}

static int child_madvise(void *ctx, int fd)
{
    (void)ctx;
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || madvise(m, 4096, MADV_DONTNEED) != 0)
        return 12; /* the advice malloc uses is allowed */
    say_before(fd);
    int rc = madvise(m, 4096, MADV_DONTFORK);
    return rc == 0 ? 10 : 11;
}

static int child_kill(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    return kill(getppid(), SIGTERM) == 0 ? 10 : 11;
}

static void test_open(void **state)
{
    (void)state;
    expect_killed(child_open);
}

static void test_openat(void **state)
{
    (void)state;
    expect_killed(child_openat);
}

static void test_sys_open(void **state)
{
    (void)state;
#ifdef SYS_open
    expect_killed(child_sys_open);
#else
    skip();
#endif
}

static void test_socket(void **state)
{
    (void)state;
    expect_killed(child_socket);
}

static void test_execve(void **state)
{
    (void)state;
    expect_killed(child_execve);
}

static void test_fork(void **state)
{
    (void)state;
    expect_killed(child_fork);
}

static void test_clone(void **state)
{
    (void)state;
    expect_killed(child_clone);
}

static void test_clone3(void **state)
{
    (void)state;
#ifdef SYS_clone3
    expect_killed(child_clone3);
#else
    skip();
#endif
}

static void test_vfork(void **state)
{
    (void)state;
    expect_killed(child_vfork);
}

static void test_ptrace(void **state)
{
    (void)state;
    expect_killed(child_ptrace);
}

static void test_write_other_fd(void **state)
{
    (void)state;
    expect_killed(child_write_other);
}

static void test_dup(void **state)
{
    (void)state;
    expect_killed(child_dup);
}

static void test_mprotect_exec(void **state)
{
    (void)state;
    expect_killed(child_mprotect_exec);
}

static void test_mmap_exec(void **state)
{
    (void)state;
    expect_killed(child_mmap_exec);
}

static void test_madvise(void **state)
{
    (void)state;
    expect_killed(child_madvise);
}

static void test_kill(void **state)
{
    (void)state;
    expect_killed(child_kill);
}

/* ---- normal runs and limits ------------------------------------------- */

#define BIG_ALLOC  ((size_t)50 << 20)
#define REPLY_SIZE ((size_t)1 << 20)

static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 2654435761u) >> 13);
}

/* mallocs 50 MB (touched), grows and shrinks the heap, replies 1 MB. */
static int child_normal(void *ctx, int fd)
{
    (void)ctx;
    unsigned char *big = malloc(BIG_ALLOC);
    if (!big)
        pks_jail_nomem();
    memset(big, 0x5a, BIG_ALLOC);
    void *small[1000];
    for (size_t i = 0; i < 1000; i++) {
        small[i] = malloc(16 + i * 37);
        if (!small[i])
            pks_jail_nomem();
        memset(small[i], 1, 16 + i * 37);
    }
    for (size_t i = 0; i < 1000; i += 2)
        free(small[i]);
    unsigned char *reply = malloc(REPLY_SIZE / 4);
    if (!reply)
        pks_jail_nomem();
    unsigned char *grown = realloc(reply, REPLY_SIZE);
    if (!grown)
        pks_jail_nomem();
    reply = grown;
    for (size_t i = 0; i < REPLY_SIZE; i++)
        reply[i] = pattern(i) ^ (unsigned char)(big[i] ^ 0x5a);
    free(big);
    for (size_t i = 1; i < 1000; i += 2)
        free(small[i]);
    int rc = pks_jail_write(fd, reply, REPLY_SIZE);
    free(reply);
    return rc == 0 ? 0 : 2;
}

static void test_normal(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    pks_jail_result r;
    pks_jail_status s = run(&o, child_normal, NULL, &r);
    if (s != PKS_JAIL_OK)
        print_error("status %s: %s\n", pks_jail_status_name(s), r.detail);
    assert_int_equal(s, PKS_JAIL_OK);
    assert_int_equal(r.signal, 0);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.reply_len, REPLY_SIZE);
    size_t bad = 0;
    for (size_t i = 0; i < REPLY_SIZE; i++)
        bad += (unsigned char)r.reply[i] != pattern(i);
    assert_int_equal(bad, 0);
    free(r.reply);
}

/* The same under the defaults (NULL options), unless sanitized. */
static void test_defaults(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    pks_jail_result r;
    assert_int_equal(pks_jail_run(NULL, child_normal, NULL, &r), 0);
    assert_int_equal(r.reply_len, REPLY_SIZE);
    free(r.reply);
}

static int child_empty(void *ctx, int fd)
{
    (void)ctx;
    (void)fd;
    return 0;
}

static void test_empty_reply(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    pks_jail_result r;
    assert_int_equal(run(&o, child_empty, NULL, &r), PKS_JAIL_OK);
    assert_int_equal(r.reply_len, 0);
    assert_string_equal(r.reply, "");
    free(r.reply);
}

static int child_loop(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    for (volatile unsigned long i = 0;; i++) {
    }
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_timeout(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    o.timeout_ms = 300;
    pks_jail_result r;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pks_jail_status s = run(&o, child_loop, NULL, &r);
    double took = seconds_since(&t0);
    assert_int_equal(s, PKS_JAIL_TIMEOUT);
    assert_int_equal(r.signal, SIGKILL);
    assert_string_equal(r.detail, "timed out after 300 ms");
    assert_string_equal(r.reply, "before");
    assert_true(took >= 0.29);
    assert_true(took < 5.0);
    free(r.reply);
}

/* Without the filter a child can close its end and go on: the deadline
 * still holds after EOF. */
static int child_close_and_hang(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    close(fd);
    for (;;)
        pause();
    return 0;
}

static void test_timeout_after_eof(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    o.seccomp = 0;
    o.timeout_ms = 300;
    pks_jail_result r;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(run(&o, child_close_and_hang, NULL, &r), PKS_JAIL_TIMEOUT);
    assert_int_equal(r.signal, SIGKILL);
    assert_string_equal(r.reply, "before");
    assert_true(seconds_since(&t0) < 5.0);
    free(r.reply);
}

static void test_cpu(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    o.cpu_seconds = 1;
    o.timeout_ms = 10000;
    pks_jail_result r;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pks_jail_status s = run(&o, child_loop, NULL, &r);
    assert_int_equal(s, PKS_JAIL_CPU);
    assert_int_equal(r.signal, SIGXCPU);
    assert_true(seconds_since(&t0) < 5.0);
    free(r.reply);
}

static int child_segv(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    volatile uintptr_t addr = 16; /* hidden from the compiler */
    *(volatile int *)addr = 1;
    return 10;
}

static void test_crash(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    pks_jail_result r;
    pks_jail_status s = run(&o, child_segv, NULL, &r);
    if (s != PKS_JAIL_CRASHED)
        print_error("status %s: %s\n", pks_jail_status_name(s), r.detail);
    assert_int_equal(s, PKS_JAIL_CRASHED);
    assert_int_equal(r.signal, SIGSEGV);
    assert_non_null(strstr(r.detail, "SIGSEGV"));
    free(r.reply);
}

static int child_eat(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    /* A chain of 1 MiB blocks, so that the compiler cannot elide them. */
    void **head = NULL;
    for (size_t total = 0; total < ((size_t)64 << 30); total += (size_t)1 << 20) {
        void **p = malloc((size_t)1 << 20);
        if (!p)
            pks_jail_nomem();
        *p = head;
        head = p;
    }
    return head ? 10 : 11;
}

static void test_memory(void **state)
{
    (void)state;
    if (SANITIZED)
        skip(); /* ASan's allocator does not return NULL */
    pks_jail_opts o = opts();
    o.max_memory = (uint64_t)256 << 20;
    pks_jail_result r;
    pks_jail_status s = run(&o, child_eat, NULL, &r);
    if (s != PKS_JAIL_MEMORY)
        print_error("status %s: %s\n", pks_jail_status_name(s), r.detail);
    assert_int_equal(s, PKS_JAIL_MEMORY);
    assert_int_equal(r.exit_code, PKS_JAIL_EXIT_NOMEM);
    assert_int_equal(r.signal, 0);
    free(r.reply);
}

static int child_flood(void *ctx, int fd)
{
    (void)ctx;
    static const char block[4096];
    for (;;)
        if (pks_jail_write(fd, block, sizeof block) != 0)
            return 2;
}

static void test_reply_too_large(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    o.max_reply = 100000;
    pks_jail_result r;
    pks_jail_status s = run(&o, child_flood, NULL, &r);
    assert_int_equal(s, PKS_JAIL_REPLY_TOO_LARGE);
    assert_int_equal(r.signal, SIGKILL);
    assert_int_equal(r.reply_len, 100000);
    free(r.reply);
}

/* Exactly max_reply bytes is fine. */
static int child_exact(void *ctx, int fd)
{
    (void)ctx;
    static const char block[1000];
    for (int i = 0; i < 100; i++)
        if (pks_jail_write(fd, block, sizeof block) != 0)
            return 2;
    return 0;
}

static void test_reply_at_limit(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    o.max_reply = 100000;
    pks_jail_result r;
    assert_int_equal(run(&o, child_exact, NULL, &r), PKS_JAIL_OK);
    assert_int_equal(r.reply_len, 100000);
    free(r.reply);
}

static int child_fail(void *ctx, int fd)
{
    (void)ctx;
    say_before(fd);
    return *(const int *)ctx;
}

static void test_failed(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    pks_jail_result r;
    int code = 7;
    assert_int_equal(run(&o, child_fail, &code, &r), PKS_JAIL_FAILED);
    assert_int_equal(r.exit_code, 7);
    assert_string_equal(r.reply, "before");
    free(r.reply);
    code = 256; /* would be 0 as an exit status: must not pass as success */
    assert_int_equal(run(&o, child_fail, &code, &r), PKS_JAIL_FAILED);
    assert_int_equal(r.exit_code, 1);
    free(r.reply);
}

/* Without the filter (so that it can look): only the reply descriptor is
 * open, and the limits are set. */
static int child_inspect(void *ctx, int fd)
{
    (void)ctx;
    char buf[256];
    int open_fds = 0, other = 0;
    for (int i = 0; i < 4096; i++) {
        if (fcntl(i, F_GETFD) != -1) {
            open_fds++;
            if (i != fd)
                other = i;
        }
    }
    struct rlimit nofile, nproc, fsize, core, cpu;
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_NPROC, &nproc);
    getrlimit(RLIMIT_FSIZE, &fsize);
    getrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_CPU, &cpu);
    int n = snprintf(buf, sizeof buf,
                     "open=%d other=%d nofile=%llu nproc=%llu fsize=%llu "
                     "core=%llu cpu=%llu",
                     open_fds, other, (unsigned long long)nofile.rlim_cur,
                     (unsigned long long)nproc.rlim_cur, (unsigned long long)fsize.rlim_cur,
                     (unsigned long long)core.rlim_cur, (unsigned long long)cpu.rlim_cur);
    return pks_jail_write(fd, buf, (size_t)n) == 0 ? 0 : 2;
}

static void test_confinement(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    o.seccomp = 0;
    o.cpu_seconds = 3;
    /* A stray descriptor without O_CLOEXEC must not reach the child. */
    int stray = open("/dev/null", O_RDONLY);
    assert_true(stray >= 0);
    pks_jail_result r;
    assert_int_equal(run(&o, child_inspect, NULL, &r), PKS_JAIL_OK);
    close(stray);
    assert_string_equal(r.reply, "open=1 other=0 nofile=0 nproc=0 fsize=0 core=0 cpu=3");
    free(r.reply);
}

static int child_count(void *ctx, int fd)
{
    unsigned i = *(const unsigned *)ctx;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%u", i);
    return pks_jail_write(fd, buf, (size_t)n) == 0 ? (int)(i % 3) : 2;
}

static void test_no_zombies(void **state)
{
    (void)state;
    pks_jail_opts o = opts();
    for (unsigned i = 0; i < 50; i++) {
        pks_jail_result r;
        pks_jail_fn fn = i % 5 == 4 ? child_segv : child_count;
        if (i % 10 == 7)
            fn = child_flood;
        o.max_reply = i % 10 == 7 ? 10000 : (size_t)64 << 20;
        pks_jail_run(&o, fn, &i, &r);
        if (fn == child_count) {
            char want[32];
            snprintf(want, sizeof want, "%u", i);
            assert_string_equal(r.reply, want);
            assert_int_equal(r.status, i % 3 ? PKS_JAIL_FAILED : PKS_JAIL_OK);
        }
        free(r.reply);
    }
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pks_jail_status_name(PKS_JAIL_OK), "ok");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_TIMEOUT), "timeout");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_SYSCALL), "syscall");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_CRASHED), "crashed");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_CPU), "cpu");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_MEMORY), "memory");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_REPLY_TOO_LARGE), "reply-too-large");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_FAILED), "failed");
    assert_string_equal(pks_jail_status_name(PKS_JAIL_SETUP), "setup");
    pks_jail_opts o;
    pks_jail_defaults(&o);
    assert_int_equal(o.timeout_ms, 10000);
    assert_int_equal(o.max_reply, (size_t)64 << 20);
    assert_true(o.max_memory == (uint64_t)4 << 30);
    assert_int_equal(o.cpu_seconds, 10);
    assert_int_equal(o.seccomp, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_openat),
        cmocka_unit_test(test_sys_open),
        cmocka_unit_test(test_socket),
        cmocka_unit_test(test_execve),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_clone3),
        cmocka_unit_test(test_vfork),
        cmocka_unit_test(test_ptrace),
        cmocka_unit_test(test_write_other_fd),
        cmocka_unit_test(test_dup),
        cmocka_unit_test(test_mprotect_exec),
        cmocka_unit_test(test_mmap_exec),
        cmocka_unit_test(test_madvise),
        cmocka_unit_test(test_kill),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_reply),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_timeout_after_eof),
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_reply_too_large),
        cmocka_unit_test(test_reply_at_limit),
        cmocka_unit_test(test_failed),
        cmocka_unit_test(test_confinement),
        cmocka_unit_test(test_no_zombies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
