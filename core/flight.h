/* flight: single flight. Threads that need the same slow answer at the
 * same time (a domain's probe, its policy look-up, an MX host's verdict)
 * share one piece of work: the first to ask leads and does it, the others
 * join and wait for its answer, each under its own deadline, so a burst of
 * messages to a new domain costs one probe, not one per message.
 *
 * A table made with keep on also keeps each answer after it lands, for
 * the sessions (units of work, such as one probe of a domain) that had
 * begun before it landed and are still going: two probes running at the
 * same time share an MX host's verdict even when the second reaches the
 * host just after the first finished with it. A session that begins after
 * an answer landed never gets it (it wants fresh news), and an answer
 * goes as soon as no session that began before it is left, so what is
 * kept is bounded by what lands during the longest session.
 *
 * Thread-safe; the leader holds no lock while it works. */
#ifndef TR_FLIGHT_H
#define TR_FLIGHT_H

#include <stddef.h>
#include <stdint.h>

#define FLIGHT_KEY_MAX 300 /* bytes of a key, its NUL not counted */

typedef struct flight_table flight_table;

/* One unit of work that may take kept answers, between
 * flight_session_begin and flight_session_end; the caller's memory (on
 * its stack), the table's while it runs. */
typedef struct flight_session {
    struct flight_session *prev, *next;
    uint64_t began_us; /* plat_now_us */
} flight_session;

/* value_size: the bytes of one answer. keep: 1 to keep answers for the
 * sessions that began before they landed, 0 for only those waiting when
 * an answer lands. NULL when out of memory. */
flight_table *flight_new(size_t value_size, int keep);
/* Call once nobody leads, waits or has a session any more. */
void flight_free(flight_table *t);

void flight_session_begin(flight_table *t, flight_session *s);
void flight_session_end(flight_table *t, flight_session *s);

typedef enum {
    FLIGHT_LEAD = 0,  /* nobody is at it: do the work, then flight_land
                         (always, whatever happened) */
    FLIGHT_JOINED,    /* *value is the leader's answer */
    FLIGHT_TIMED_OUT  /* deadline_ms passed before an answer came */
} flight_role;

/* Lead key's work, join it, or take a kept answer. s: the asker's
 * session, or NULL (no kept answer is taken); deadline_ms: how long a
 * joiner waits (plat_now_ms clock). A key longer than FLIGHT_KEY_MAX, or
 * no memory for the flight, makes the asker lead alone (its answer then
 * reaches nobody). */
flight_role flight_ask(flight_table *t, const char *key, const flight_session *s,
                       uint64_t deadline_ms, void *value);

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
