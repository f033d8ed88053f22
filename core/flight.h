/* flight: single flight. Threads that need the same slow answer at the
 * same time (a domain's probe, its policy look-up, an MX host's verdict)
 * share one piece of work: the first to ask leads and does it, the others
 * join and wait for its answer, each under its own deadline, so a burst of
 * messages to a new domain costs one probe, not one per message.
 *
 * An answer can also be kept for a while after it lands (keep_ms), for
 * askers whose own work had begun before it landed: two probes running at
 * the same time share an MX host's verdict even when the second reaches
 * the host just after the first finished with it. An asker that began
 * after an answer landed never gets it (it wants fresh news).
 *
 * Thread-safe; the leader holds no lock while it works. */
#ifndef TR_FLIGHT_H
#define TR_FLIGHT_H

#include <stddef.h>
#include <stdint.h>

#define FLIGHT_KEY_MAX 300 /* bytes of a key, its NUL not counted */

typedef struct flight_table flight_table;

/* value_size: the bytes of one answer. keep_ms: how long a landed answer
 * is kept for askers that began before it landed (0: only those already
 * waiting get it). NULL when out of memory. */
flight_table *flight_new(size_t value_size, uint64_t keep_ms);
/* Call once nobody leads or waits any more. */
void flight_free(flight_table *t);

typedef enum {
    FLIGHT_LEAD = 0,  /* nobody is at it: do the work, then flight_land
                         (always, whatever happened) */
    FLIGHT_JOINED,    /* *value is the leader's answer */
    FLIGHT_TIMED_OUT  /* deadline_ms passed before an answer came */
} flight_role;

/* Lead key's work, join it, or take a kept answer. began_us: when the
 * asker's own work began (plat_now_us clock, fine enough to tell "before"
 * from "after" where plat_now_ms moves in 16 ms steps; 0 when keep_ms is
 * 0); deadline_ms: how long a joiner waits (plat_now_ms clock). A key longer than FLIGHT_KEY_MAX,
 * or no memory for the flight, makes the asker lead alone (its answer then
 * reaches nobody). */
flight_role flight_ask(flight_table *t, const char *key, uint64_t began_us, uint64_t deadline_ms,
                       void *value);

/* Leads key only when nobody else is at it: 1 (land it later) or 0. For
 * work that should give way rather than wait (background refreshes). */
int flight_try_lead(flight_table *t, const char *key);

/* The leader's answer. shareable 0: it says nothing to the others (the
 * leader's own deadline cut it short): those waiting ask again and one of
 * them leads, under its own deadline. */
void flight_land(flight_table *t, const char *key, const void *value, int shareable);

/* 1 while someone leads key. */
int flight_in_air(flight_table *t, const char *key);

/* Answers handed to joiners (and kept answers taken) since the start. */
unsigned long flight_joins(flight_table *t);
/* Flights in the air plus kept answers (tests: nothing piles up). */
size_t flight_count(flight_table *t);

#endif
