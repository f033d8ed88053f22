/* trtest on POSIX: fork/exec with output in temporary files, nftw removal,
 * and the Linux immutable flag for read-only files that bind root too. */
#ifndef _WIN32
/* nftw and mkostemp are outside plain POSIX.1-2008. */
#define _GNU_SOURCE
#include "trtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#endif

/* Set or clear the immutable attribute; 0 on success. */
static int set_immutable(const char *path, int on)
{
#if defined(__linux__) && defined(FS_IOC_SETFLAGS)
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int flags = 0, rc = -1;
    if (fd < 0)
        return -1;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
        rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
    }
    close(fd);
    return rc;
#else
    (void)path;
    (void)on;
    return -1;
#endif
}

static int writable_now(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

int trtest_make_readonly(const char *path)
{
    if (chmod(path, 0444) != 0)
        return -1;
    if (writable_now(path))
        (void)set_immutable(path, 1);   /* root: permission bits do not bind */
    return writable_now(path) ? -1 : 0;
}

int trtest_make_writable(const char *path)
{
    (void)set_immutable(path, 0);
    return chmod(path, 0644);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_F || type == FTW_SL || type == FTW_SLN)
        (void)set_immutable(path, 0);
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

/* An unlinked temporary file: nothing to clean up, whatever happens. */
static int temp_fd(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/trtest-XXXXXX", (tmp && *tmp) ? tmp : "/tmp");
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

static int spawn_wait(const char *program, char **argv, int in, int out, int err)
{
    int status;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Only async-signal-safe calls here: the parent may have threads. */
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        execv(program, argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int trtest_run(const char *program, const char *const *args, const char *stdin_text,
               trtest_result *res)
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
            res->exit_code = spawn_wait(program, argv, in, out, err);
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
