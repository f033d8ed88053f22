/* plat: the thin platform layer of the core. Time, threads, locks, files and
 * paths; plat_posix.c and plat_win32.c implement it, and no other core file
 * includes an operating system header. */
#ifndef TR_PLAT_H
#define TR_PLAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PLAT_PATH_MAX 1024

/* Monotonic milliseconds, for deadlines. */
uint64_t plat_now_ms(void);
/* Monotonic microseconds, for measuring short spans (OnArrival times);
 * its own clock, not comparable with plat_now_ms. */
uint64_t plat_now_us(void);
/* Wall clock, milliseconds since the Unix epoch, for records. */
int64_t plat_wall_ms(void);
void plat_sleep_ms(unsigned ms);
/* Thread-safe gmtime (gmtime_r / gmtime_s). 0 on success. */
int plat_gmtime(int64_t unix_s, struct tm *out);

typedef struct plat_mutex plat_mutex;
plat_mutex *plat_mutex_new(void);
void plat_mutex_free(plat_mutex *m);
void plat_mutex_lock(plat_mutex *m);
void plat_mutex_unlock(plat_mutex *m);

/* A condition variable used with a plat_mutex. wait_ms returns after a
 * signal, a spurious wake-up or ms milliseconds: callers re-check. */
typedef struct plat_cond plat_cond;
plat_cond *plat_cond_new(void);
void plat_cond_free(plat_cond *c);
void plat_cond_wait_ms(plat_cond *c, plat_mutex *m, unsigned ms);
void plat_cond_signal(plat_cond *c);
void plat_cond_broadcast(plat_cond *c);

/* A one-shot event: waiters block until it is set, and plat_event_set
 * wakes every one of them with one call. Unlike a condition variable's
 * broadcast, a woken waiter needs no lock to go on, so many waiters do not
 * queue for one mutex after the wake-up (Linux: a futex; Windows: a
 * manual-reset event). Set once; never reset. */
typedef struct plat_event plat_event;
plat_event *plat_event_new(void);
void plat_event_free(plat_event *e);
void plat_event_set(plat_event *e);
/* 1 once e is set (at once if it already is), 0 after ms milliseconds
 * without (or, rarely, a little earlier: callers re-check their clock). */
int plat_event_wait_ms(plat_event *e, unsigned ms);

typedef struct plat_thread plat_thread;
typedef void (*plat_thread_fn)(void *arg);
/* NULL when the thread could not be started. When fn returns, the thread
 * releases OpenSSL's per-thread state (OPENSSL_thread_stop) before it
 * ends: every thread started here may have probed or fetched. */
plat_thread *plat_thread_start(plat_thread_fn fn, void *arg);
void plat_thread_join(plat_thread *t);

/* One flag per thread (every thread its own, all clear at first): a
 * thread sets it when a library starts keeping state for it, and takes
 * it (reads and clears it) before freeing that state, so a thread that
 * kept none skips the freeing. */
void plat_thread_flag_set(void);
int plat_thread_flag_take(void);

/* Run fn exactly once per process, whichever thread gets here first. */
typedef struct { volatile long state; } plat_once;
#define PLAT_ONCE_INIT { 0 }
void plat_once_run(plat_once *once, void (*fn)(void));

/* Default database path: $TLSROUTER_DB, else the platform's data folder
 * (%ProgramData%\TLS Router\tlsrouter.db on Windows). 0 on success. */
int plat_default_db_path(char *buf, size_t len);
/* The machine's host name (FQDN where the system knows it). 0 on success. */
int plat_hostname(char *buf, size_t len);

/* Files. All return 0 on success and -1 with errno-like text in err. */
int plat_mkdir(const char *path);
int plat_is_dir(const char *path);
/* Write all of buf to a new file at path, flushed to disk. Fails if the file
 * exists. Nothing is left behind on failure. */
int plat_write_new_file(const char *path, const void *buf, size_t len,
                        char *err, size_t errlen);
/* Rename within one volume, failing if dest exists (never overwrites).
 * Returns once the new name is on disk (POSIX: the folder is fsynced;
 * Windows: MOVEFILE_WRITE_THROUGH); when that cannot be done, nothing has
 * moved. */
int plat_rename_noreplace(const char *from, const char *to, char *err, size_t errlen);
int plat_remove(const char *path);
/* Calls fn for each regular file directly in dir, with its name and its
 * last write time (wall clock, ms since the Unix epoch), until fn returns
 * non-zero; fn may remove the file it is given. 0 when the folder was
 * listed, -1 when it cannot be. */
typedef int (*plat_file_fn)(const char *name, int64_t mtime_ms, void *arg);
int plat_list_files(const char *dir, plat_file_fn fn, void *arg);
/* Directory separator as a string. */
const char *plat_dir_sep(void);

/* Process id, for unique file names. */
unsigned long plat_pid(void);

#endif
