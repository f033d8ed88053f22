/* bgwork: a ring of waiting jobs plus one slot per thread for the running
 * job, all under one mutex; duplicates are found by a linear scan, which
 * is cheap at the sizes used (a few hundred jobs at most). */
#include "bgwork.h"

#include <stdlib.h>
#include <string.h>

#include "plat.h"

#define BGWORK_THREADS_MAX 16

typedef struct {
    bgwork_fn fn;
    void *ctx;
    char key[BGWORK_KEY_MAX + 1];
} job;

struct bgwork {
    plat_mutex *lock;
    plat_cond *wake;           /* a job was queued, or stop */
    plat_cond *idle;           /* a job finished */
    job *ring;
    size_t cap, head, count;
    job running[BGWORK_THREADS_MAX];
    int busy[BGWORK_THREADS_MAX];
    plat_thread *threads[BGWORK_THREADS_MAX];
    unsigned n_threads;
    unsigned max_running;      /* jobs run at once at most (bgwork_set_max_running) */
    unsigned n_running;
    unsigned long done;
    int stop;
};

static int same_job(const job *j, bgwork_fn fn, const char *key)
{
    return j->fn == fn && strcmp(j->key, key) == 0;
}

static int known(const bgwork *w, bgwork_fn fn, const char *key)
{
    for (size_t i = 0; i < w->count; i++)
        if (same_job(&w->ring[(w->head + i) % w->cap], fn, key))
            return 1;
    for (unsigned t = 0; t < w->n_threads; t++)
        if (w->busy[t] && same_job(&w->running[t], fn, key))
            return 1;
    return 0;
}

bgwork_status bgwork_submit(bgwork *w, bgwork_fn fn, void *ctx, const char *key)
{
    size_t len = key ? strlen(key) : 0;
    if (len == 0 || len > BGWORK_KEY_MAX)
        return BGWORK_BAD_KEY;
    bgwork_status st = BGWORK_QUEUED;
    plat_mutex_lock(w->lock);
    if (known(w, fn, key)) {
        st = BGWORK_DUPLICATE;
    } else if (w->stop || w->count == w->cap) {
        st = BGWORK_FULL;
    } else {
        job *j = &w->ring[(w->head + w->count) % w->cap];
        j->fn = fn;
        j->ctx = ctx;
        memcpy(j->key, key, len + 1);
        w->count++;
        plat_cond_signal(w->wake);
    }
    plat_mutex_unlock(w->lock);
    return st;
}

typedef struct {
    bgwork *pool;
    unsigned slot;
} thread_ctx;

static void worker(void *arg)
{
    thread_ctx *tc = arg;
    bgwork *w = tc->pool;
    unsigned slot = tc->slot;
    free(tc);
    plat_mutex_lock(w->lock);
    for (;;) {
        while (!w->stop && (w->count == 0 || w->n_running >= w->max_running))
            plat_cond_wait_ms(w->wake, w->lock, 1000);
        if (w->stop)
            break;
        w->running[slot] = w->ring[w->head];
        w->head = (w->head + 1) % w->cap;
        w->count--;
        w->busy[slot] = 1;
        w->n_running++;
        plat_mutex_unlock(w->lock);
        w->running[slot].fn(w->running[slot].ctx, w->running[slot].key);
        plat_mutex_lock(w->lock);
        w->busy[slot] = 0;
        w->n_running--;
        w->done++;
        plat_cond_broadcast(w->idle);
        if (w->count > 0) /* a thread held back by max_running may go on */
            plat_cond_signal(w->wake);
    }
    plat_mutex_unlock(w->lock);
}

static void stop_threads(bgwork *w)
{
    plat_mutex_lock(w->lock);
    w->stop = 1;
    w->count = 0;
    plat_cond_broadcast(w->wake);
    plat_mutex_unlock(w->lock);
    for (unsigned t = 0; t < w->n_threads; t++)
        plat_thread_join(w->threads[t]);
    w->n_threads = 0;
}

void bgwork_free(bgwork *w)
{
    if (!w)
        return;
    /* Threads exist only once the lock and conditions do: a pool that
     * failed half-made in bgwork_new has nothing to stop. */
    if (w->n_threads > 0)
        stop_threads(w);
    plat_cond_free(w->wake);
    plat_cond_free(w->idle);
    plat_mutex_free(w->lock);
    free(w->ring);
    free(w);
}

static int start_thread(bgwork *w, unsigned slot)
{
    thread_ctx *tc = malloc(sizeof *tc);
    if (!tc)
        return -1;
    tc->pool = w;
    tc->slot = slot;
    w->threads[slot] = plat_thread_start(worker, tc);
    if (!w->threads[slot]) {
        free(tc);
        return -1;
    }
    return 0;
}

bgwork *bgwork_new(unsigned threads, size_t queue_max)
{
    if (threads == 0 || threads > BGWORK_THREADS_MAX || queue_max == 0)
        return NULL;
    bgwork *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cap = queue_max;
    w->ring = calloc(queue_max, sizeof *w->ring);
    w->lock = plat_mutex_new();
    w->wake = plat_cond_new();
    w->idle = plat_cond_new();
    if (!w->ring || !w->lock || !w->wake || !w->idle) {
        bgwork_free(w);
        return NULL;
    }
    /* Slots are fixed before any thread runs: a thread owns running[slot]. */
    plat_mutex_lock(w->lock);
    for (unsigned t = 0; t < threads && start_thread(w, t) == 0; t++)
        w->n_threads++;
    plat_mutex_unlock(w->lock);
    if (w->n_threads == 0) {
        bgwork_free(w);
        return NULL;
    }
    w->max_running = w->n_threads;
    return w;
}

void bgwork_set_max_running(bgwork *w, unsigned n)
{
    plat_mutex_lock(w->lock);
    w->max_running = n < 1 ? 1 : n;
    /* Threads are added, never taken away: one that fails to start only
     * leaves fewer running at once. */
    while (w->n_threads < w->max_running && w->n_threads < BGWORK_THREADS_MAX &&
           !w->stop && start_thread(w, w->n_threads) == 0)
        w->n_threads++;
    plat_cond_broadcast(w->wake);
    plat_mutex_unlock(w->lock);
}

size_t bgwork_pending(bgwork *w)
{
    plat_mutex_lock(w->lock);
    size_t n = w->count;
    for (unsigned t = 0; t < w->n_threads; t++)
        n += w->busy[t] != 0;
    plat_mutex_unlock(w->lock);
    return n;
}

unsigned long bgwork_done(bgwork *w)
{
    plat_mutex_lock(w->lock);
    unsigned long n = w->done;
    plat_mutex_unlock(w->lock);
    return n;
}

int bgwork_wait_idle(bgwork *w, unsigned ms)
{
    uint64_t deadline = plat_now_ms() + ms;
    size_t n;
    while ((n = bgwork_pending(w)) > 0 && plat_now_ms() < deadline) {
        plat_mutex_lock(w->lock);
        plat_cond_wait_ms(w->idle, w->lock, 20);
        plat_mutex_unlock(w->lock);
    }
    return n == 0 ? 0 : -1;
}
