/* fanout: a shared index handed out under a lock; each thread takes the
 * next task until none is left, so a slow task never holds up the others. */
#include "fanout.h"

#include <stdlib.h>

#include "plat.h"

#define FANOUT_THREADS_MAX 64

typedef struct {
    plat_mutex *lock;
    size_t next, n;
    fanout_fn fn;
    void *ctx;
} fanout;

static void take_tasks(fanout *f)
{
    for (;;) {
        plat_mutex_lock(f->lock);
        size_t i = f->next < f->n ? f->next++ : f->n;
        plat_mutex_unlock(f->lock);
        if (i == f->n)
            return;
        f->fn(f->ctx, i);
    }
}

static void thread_main(void *arg)
{
    fanout *f = arg;
    take_tasks(f);
}

void fanout_run(size_t n, unsigned max_threads, fanout_fn fn, void *ctx)
{
    fanout f = { .n = n, .fn = fn, .ctx = ctx };
    plat_thread *threads[FANOUT_THREADS_MAX];
    size_t started = 0;
    if (max_threads > FANOUT_THREADS_MAX)
        max_threads = FANOUT_THREADS_MAX;
    f.lock = n > 1 && max_threads > 1 ? plat_mutex_new() : NULL;
    if (!f.lock) {
        /* One task, one thread allowed, or no memory for the lock. */
        for (size_t i = 0; i < n; i++)
            fn(ctx, i);
        return;
    }
    /* The caller is one of the workers: n - 1 more at most. */
    while (started + 1 < n && started + 1 < max_threads) {
        threads[started] = plat_thread_start(thread_main, &f);
        if (!threads[started])
            break;
        started++;
    }
    take_tasks(&f);
    for (size_t i = 0; i < started; i++)
        plat_thread_join(threads[i]);
    plat_mutex_free(f.lock);
}
