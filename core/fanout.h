/* fanout: run n independent tasks at once on short-lived threads, the
 * calling thread working too, and return when every task has run. For work
 * that mostly waits on the network (probes, policy look-ups), where the
 * time of a batch should be its slowest task, not the sum. */
#ifndef TR_FANOUT_H
#define TR_FANOUT_H

#include <stddef.h>

typedef void (*fanout_fn)(void *ctx, size_t index);

/* Runs fn(ctx, i) for every i < n, on at most max_threads threads counting
 * the caller's (max_threads 0 or 1: the caller alone). Threads that fail to
 * start only slow it down. Threads come from plat_thread_start, which
 * releases each one's library state when it ends. */
void fanout_run(size_t n, unsigned max_threads, fanout_fn fn, void *ctx);

#endif
