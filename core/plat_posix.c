/* plat on POSIX: pthreads, clock_gettime, open/fsync/link, a folder's fsync
 * after a move into it. */
#include "plat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#endif

#include <openssl/crypto.h>

uint64_t plat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t plat_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t plat_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void plat_sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int plat_gmtime(int64_t unix_s, struct tm *out)
{
    time_t t = (time_t)unix_s;
    return gmtime_r(&t, out) ? 0 : -1;
}

struct plat_mutex { pthread_mutex_t m; };

plat_mutex *plat_mutex_new(void)
{
    plat_mutex *m = malloc(sizeof *m);
    if (m && pthread_mutex_init(&m->m, NULL) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

void plat_mutex_free(plat_mutex *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->m);
    free(m);
}

void plat_mutex_lock(plat_mutex *m) { pthread_mutex_lock(&m->m); }
void plat_mutex_unlock(plat_mutex *m) { pthread_mutex_unlock(&m->m); }

struct plat_cond { pthread_cond_t c; };

plat_cond *plat_cond_new(void)
{
    plat_cond *c = malloc(sizeof *c);
    pthread_condattr_t attr;
    int ok = c && pthread_condattr_init(&attr) == 0;
    /* Deadlines run on the monotonic clock, as plat_now_ms does. */
    if (ok) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&c->c, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok) {
        free(c);
        c = NULL;
    }
    return c;
}

void plat_cond_free(plat_cond *c)
{
    if (!c)
        return;
    pthread_cond_destroy(&c->c);
    free(c);
}

void plat_cond_wait_ms(plat_cond *c, plat_mutex *m, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->c, &m->m, &ts);
}

void plat_cond_signal(plat_cond *c) { pthread_cond_signal(&c->c); }
void plat_cond_broadcast(plat_cond *c) { pthread_cond_broadcast(&c->c); }

#if defined(__linux__)
/* The futex word: 0 until set, then 1. Waking every waiter is one system
 * call; no waiter touches a lock after it. */
struct plat_event { _Atomic uint32_t set; };

plat_event *plat_event_new(void) { return calloc(1, sizeof(plat_event)); }
void plat_event_free(plat_event *e) { free(e); }

void plat_event_set(plat_event *e)
{
    atomic_store_explicit(&e->set, 1, memory_order_release);
    syscall(SYS_futex, &e->set, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int plat_event_wait_ms(plat_event *e, unsigned ms)
{
    uint64_t deadline = plat_now_ms() + ms;
    for (;;) {
        if (atomic_load_explicit(&e->set, memory_order_acquire))
            return 1;
        uint64_t now = plat_now_ms();
        if (now >= deadline)
            return 0;
        uint64_t left = deadline - now;
        struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
        /* Returns at once if the word is no longer 0 (set meanwhile). */
        syscall(SYS_futex, &e->set, FUTEX_WAIT_PRIVATE, 0u, &ts, NULL, 0);
    }
}
#else
/* Elsewhere a mutex and condition variable: waiters re-take the mutex in
 * turn, which only costs time. */
struct plat_event {
    plat_mutex *lock;
    plat_cond *cond;
    int set;
};

plat_event *plat_event_new(void)
{
    plat_event *e = calloc(1, sizeof *e);
    if (e && (!(e->lock = plat_mutex_new()) || !(e->cond = plat_cond_new()))) {
        plat_event_free(e);
        e = NULL;
    }
    return e;
}

void plat_event_free(plat_event *e)
{
    if (!e)
        return;
    plat_cond_free(e->cond);
    plat_mutex_free(e->lock);
    free(e);
}

void plat_event_set(plat_event *e)
{
    plat_mutex_lock(e->lock);
    e->set = 1;
    plat_cond_broadcast(e->cond);
    plat_mutex_unlock(e->lock);
}

int plat_event_wait_ms(plat_event *e, unsigned ms)
{
    plat_mutex_lock(e->lock);
    if (!e->set)
        plat_cond_wait_ms(e->cond, e->lock, ms);
    int set = e->set;
    plat_mutex_unlock(e->lock);
    return set;
}
#endif

struct plat_thread {
    pthread_t tid;
    plat_thread_fn fn;
    void *arg;
};

static void *thread_trampoline(void *p)
{
    plat_thread *t = p;
    t->fn(t->arg);
    /* OpenSSL keeps per-thread state (error queue, random generators) that
     * only this call frees when the library is linked statically, as in
     * the Windows build (no DllMain sees the thread end); the sink starts
     * threads for every probe all day. Harmless where a thread never used
     * OpenSSL or the library also cleans up itself (pthread keys). */
    OPENSSL_thread_stop();
    return NULL;
}

plat_thread *plat_thread_start(plat_thread_fn fn, void *arg)
{
    plat_thread *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->tid, NULL, thread_trampoline, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void plat_thread_join(plat_thread *t)
{
    if (!t)
        return;
    pthread_join(t->tid, NULL);
    free(t);
}

static _Thread_local int thread_flag;

void plat_thread_flag_set(void) { thread_flag = 1; }

int plat_thread_flag_take(void)
{
    int was = thread_flag;
    thread_flag = 0;
    return was;
}

static pthread_mutex_t once_lock = PTHREAD_MUTEX_INITIALIZER;

void plat_once_run(plat_once *once, void (*fn)(void))
{
    /* A global lock keeps plat_once a plain struct that needs no init call;
     * the fast path after the first run takes no lock. */
    if (__atomic_load_n(&once->state, __ATOMIC_ACQUIRE) == 2)
        return;
    pthread_mutex_lock(&once_lock);
    if (once->state != 2) {
        fn();
        __atomic_store_n(&once->state, 2, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&once_lock);
}

static void set_err(char *err, size_t errlen, const char *what, const char *path)
{
    if (err && errlen)
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

int plat_default_db_path(char *buf, size_t len)
{
    const char *env = getenv("TLSROUTER_DB");
    int n;
    if (env && *env) {
        n = snprintf(buf, len, "%s", env);
    } else {
        const char *base = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        if (base && *base)
            n = snprintf(buf, len, "%s/tlsrouter/tlsrouter.db", base);
        else if (home && *home)
            n = snprintf(buf, len, "%s/.local/share/tlsrouter/tlsrouter.db", home);
        else
            n = snprintf(buf, len, "/var/lib/tlsrouter/tlsrouter.db");
    }
    return (n > 0 && (size_t)n < len) ? 0 : -1;
}

int plat_hostname(char *buf, size_t len)
{
    if (len == 0 || gethostname(buf, len) != 0)
        return -1;
    buf[len - 1] = '\0';
    return 0;
}

int plat_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

int plat_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int plat_write_new_file(const char *path, const void *buf, size_t len,
                        char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        set_err(err, errlen, "cannot create", path);
        return -1;
    }
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        set_err(err, errlen, "cannot write", path);
        close(fd);
        unlink(path);
        return -1;
    }
    if (close(fd) != 0) {
        set_err(err, errlen, "cannot close", path);
        unlink(path);
        return -1;
    }
    return 0;
}

/* fsync of the folder that holds path: a new name is on disk only once its
 * folder is. A file system that cannot sync a folder (EINVAL) promises
 * nothing more to wait for. */
static int sync_parent(const char *path, char *err, size_t errlen)
{
    char dir[PLAT_PATH_MAX];
    const char *slash = strrchr(path, '/');
    int n = !slash ? snprintf(dir, sizeof dir, ".")
                   : snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path),
                              path);
    if (n <= 0 || (size_t)n >= sizeof dir) {
        errno = ENAMETOOLONG;
        set_err(err, errlen, "cannot flush the folder of", path);
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        set_err(err, errlen, "cannot flush the folder", dir);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int plat_rename_noreplace(const char *from, const char *to, char *err, size_t errlen)
{
    /* link+unlink is the portable no-replace rename: link fails with EEXIST
     * instead of silently overwriting a pickup file of another message. */
    if (link(from, to) != 0) {
        set_err(err, errlen, "cannot move into", to);
        return -1;
    }
    /* The caller takes the recipients off the message once the move
     * succeeded: a crash must not lose the new name. What cannot be made
     * durable is taken back, and the caller keeps the recipients. */
    if (sync_parent(to, err, errlen) != 0) {
        unlink(to);
        return -1;
    }
    unlink(from);
    return 0;
}

int plat_remove(const char *path) { return unlink(path) == 0 ? 0 : -1; }

int plat_list_files(const char *dir, plat_file_fn fn, void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    struct stat st;
    if (!d)
        return -1;
    while ((ent = readdir(d)) != NULL) {
        /* Symbolic links are not followed: only the folder's own files. */
        if (fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        int64_t mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (fn(ent->d_name, mtime_ms, arg) != 0)
            break;
    }
    closedir(d);
    return 0;
}

const char *plat_dir_sep(void) { return "/"; }

unsigned long plat_pid(void) { return (unsigned long)getpid(); }
