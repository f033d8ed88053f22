/* trtest on POSIX: fork/exec with output in temporary files, nftw removal,
 * and the unprivileged user (nobody) for checks that need permission bits
 * to bind when the tests run as root. */
#ifndef _WIN32
/* nftw and mkostemp are outside plain POSIX.1-2008. */
#define _GNU_SOURCE
#include "trtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int trtest_make_readonly(const char *path) { return chmod(path, 0444); }
int trtest_make_writable(const char *path) { return chmod(path, 0644); }

/* ---- the unprivileged user --------------------------------------------- */

typedef struct {
    int drop;      /* this process is root: become uid/gid */
    uid_t uid;
    gid_t gid;
} unprivileged;

/* Exit status of a child that could not become the unprivileged user. */
#define BECOME_FAILED 125

static unprivileged unprivileged_user(void)
{
    unprivileged u = { geteuid() == 0, 65534, 65534 };
    struct passwd *pw = u.drop ? getpwnam("nobody") : NULL;
    if (pw) {
        u.uid = pw->pw_uid;
        u.gid = pw->pw_gid;
    }
    return u;
}

/* In a child after fork: only async-signal-safe calls. Groups first, then
 * the group id, then the user id (after which nothing can be changed). */
static int become(const unprivileged *u)
{
    if (!u->drop)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0)
        return -1;
    return geteuid() == 0 || getuid() == 0 ? -1 : 0;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return lchown(path, chown_uid, chown_gid) == 0 ? 0 : -1;
}

int trtest_give_to_unprivileged(const char *tree)
{
    unprivileged u = unprivileged_user();
    if (!u.drop)
        return 0;
    chown_uid = u.uid;
    chown_gid = u.gid;
    return nftw(tree, chown_entry, 16, FTW_PHYS);
}

static int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int trtest_unprivileged(int (*fn)(void *arg), void *arg)
{
    unprivileged u = unprivileged_user();
    fflush(NULL);   /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (become(&u) != 0)
            _exit(BECOME_FAILED);
        int rc = fn(arg);
        _exit(rc < 0 || rc > 100 ? 100 : rc);
    }
    int rc = wait_child(pid);
    if (rc == BECOME_FAILED)
        fprintf(stderr, "trtest: could not become the unprivileged user %lu\n",
                (unsigned long)u.uid);
    return rc == BECOME_FAILED ? -1 : rc;
}

long trtest_private_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long total = -1, kb;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Private_Clean: %ld kB", &kb) == 1 ||
            sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
            total = (total < 0 ? 0 : total) + kb;
    }
    fclose(f);
    return total;
}

long trtest_heap_in_use_kb(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    /* Blocks in use, from the arenas' free lists and mmap'd ones. */
    return (long)((mi.uordblks + mi.hblkhd) / 1024);
#else
    return -1;
#endif
}

int trtest_set_mtime(const char *path, long long wall_ms)
{
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = (time_t)(wall_ms / 1000);
    times[0].tv_nsec = times[1].tv_nsec = (long)(wall_ms % 1000) * 1000000L;
    return utimensat(AT_FDCWD, path, times, 0);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int trtest_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void trtest_setenv(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

/* Under $TMPDIR (else /tmp), where the temporary files below go too. */
static const char *temp_root(void)
{
    const char *tmp = getenv("TMPDIR");
    return (tmp && *tmp) ? tmp : "/tmp";
}

int trtest_temp_dir(const char *tag, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/tlsrouter-%s-XXXXXX", temp_root(), tag);
    if (n <= 0 || (size_t)n >= len)
        return -1;
    return mkdtemp(buf) ? 0 : -1;
}

/* An unlinked temporary file: nothing to clean up, whatever happens. */
static int temp_fd(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/trtest-XXXXXX", temp_root());
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static char *read_fd(int fd)
{
    size_t used = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t n;
    if (!buf || lseek(fd, 0, SEEK_SET) != 0) {
        free(buf);
        return NULL;
    }
    while ((n = read(fd, buf + used, cap - used - 1)) > 0) {
        used += (size_t)n;
        if (cap - used < 1024) {
            char *grown = realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
    }
    buf[used] = '\0';
    return buf;
}

/* as: NULL, or the user to run the program as. */
static int spawn_wait(const char *program, char **argv, int in, int out, int err,
                      const unprivileged *as)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Only async-signal-safe calls here: the parent may have threads. */
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        if (as && become(as) != 0)
            _exit(127);
        execv(program, argv);
        _exit(127);
    }
    return wait_child(pid);
}

static int run_as(const char *program, const char *const *args, const char *stdin_text,
                  trtest_result *res, const unprivileged *as);

int trtest_run(const char *program, const char *const *args, const char *stdin_text,
               trtest_result *res)
{
    return run_as(program, args, stdin_text, res, NULL);
}

/* The unprivileged user may not reach the build tree (a checkout under a
 * private folder, as mktemp -d makes): it runs a copy of the command in a
 * folder of its own, made once per process and removed at exit. */
static char cli_copy_dir[512], cli_copy[600];

static void remove_cli_copy(void)
{
    unlink(cli_copy);
    rmdir(cli_copy_dir);
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0755);
    char buf[65536];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            n = -1;
    int ok = in >= 0 && out >= 0 && n == 0;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return ok ? 0 : -1;
}

static const char *reachable_cli(void)
{
    if (cli_copy[0])
        return cli_copy;
    if (trtest_temp_dir("cli-copy", cli_copy_dir, sizeof cli_copy_dir) != 0 ||
        chmod(cli_copy_dir, 0755) != 0)
        return TR_TEST_CLI;
    snprintf(cli_copy, sizeof cli_copy, "%s/tlsrouter", cli_copy_dir);
    if (copy_file(TR_TEST_CLI, cli_copy) != 0 || chmod(cli_copy, 0755) != 0) {
        unlink(cli_copy);
        rmdir(cli_copy_dir);
        cli_copy[0] = '\0';
        return TR_TEST_CLI;
    }
    atexit(remove_cli_copy);
    return cli_copy;
}

int trtest_run_cli_unprivileged(const char *const *args, trtest_result *res)
{
    unprivileged u = unprivileged_user();
    return run_as(geteuid() == 0 ? reachable_cli() : TR_TEST_CLI, args, NULL, res, &u);
}

static int run_as(const char *program, const char *const *args, const char *stdin_text,
                  trtest_result *res, const unprivileged *as)
{
    size_t n = 0;
    res->exit_code = -1;
    res->out = res->err = NULL;
    while (args && args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    int in = temp_fd(), out = temp_fd(), err = temp_fd();
    int rc = -1;
    if (argv && in >= 0 && out >= 0 && err >= 0) {
        size_t len = stdin_text ? strlen(stdin_text) : 0;
        argv[0] = (char *)program;
        for (size_t i = 0; i < n; i++)
            argv[i + 1] = (char *)args[i];
        if ((size_t)write(in, stdin_text ? stdin_text : "", len) == len
            && lseek(in, 0, SEEK_SET) == 0) {
            res->exit_code = spawn_wait(program, argv, in, out, err, as);
            res->out = read_fd(out);
            res->err = read_fd(err);
            rc = res->out && res->err ? 0 : -1;
        }
    }
    free(argv);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    return rc;
}
#endif
