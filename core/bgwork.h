/* bgwork: a small pool of background threads for work that must never run
 * on a message's time (learning MTA-STS policies on clean paths, re-checking
 * the expired-certificate cache). Jobs are keyed: a key already queued or
 * running is not queued twice, so a busy domain costs one job, not one per
 * message. The queue is bounded; when it is full a job is dropped (the
 * caller's next message offers it again). Thread-safe. */
#ifndef TR_BGWORK_H
#define TR_BGWORK_H

#include <stddef.h>

#define BGWORK_KEY_MAX 300

typedef struct bgwork bgwork;

/* ctx is the submitter's; key is copied. The function (never NULL) runs
 * on a pool thread and must bound its own time (network deadlines): the
 * pool's owner waits for it when it stops. */
typedef void (*bgwork_fn)(void *ctx, const char *key);

/* threads: 1..16; queue_max: jobs waiting at most. NULL when out of
 * memory or no thread could be started. */
bgwork *bgwork_new(unsigned threads, size_t queue_max);
/* Stops taking jobs, drops the queued ones, waits for the running ones. */
void bgwork_free(bgwork *w);

typedef enum {
    BGWORK_QUEUED = 0,
    BGWORK_DUPLICATE,   /* the same fn and key is queued or running */
    BGWORK_FULL,        /* queue full or pool stopping: dropped */
    BGWORK_BAD_KEY      /* empty or longer than BGWORK_KEY_MAX */
} bgwork_status;

bgwork_status bgwork_submit(bgwork *w, bgwork_fn fn, void *ctx, const char *key);

/* At most n jobs run at once (the pool's threads at first); the others
 * wait in the queue. Starts threads up to n (at most 16) when the pool has
 * fewer; takes effect at once, for the next job a thread picks. */
void bgwork_set_max_running(bgwork *w, unsigned n);

/* Jobs queued plus running, and jobs finished since the pool started. */
size_t bgwork_pending(bgwork *w);
unsigned long bgwork_done(bgwork *w);

/* Waits until nothing is queued or running, or ms pass. 0 when idle.
 * Not from a job: the job itself counts as running. */
int bgwork_wait_idle(bgwork *w, unsigned ms);

#endif
