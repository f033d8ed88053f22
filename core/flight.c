/* flight: a chained hash table of flights under one mutex. A flight stays
 * in the table while it is in the air and, once landed, while its answer
 * is kept; at most one flight per key is in the table.
 *
 * Kept answers are listed in the order they landed, and sessions in the
 * order they began: when the oldest session ends, the answers that landed
 * before the next oldest began (or all, when none is left) go from the
 * front of their list.
 *
 * Each joiner waits on a lock and condition variable of its own, listed
 * on the flight: landing copies the answer into every joiner's buffer and
 * wakes each one. Waiting on the table's lock instead (one broadcast)
 * would wake 64 joiners into a queue for that one lock, each handing it to
 * the next through a context switch: milliseconds for the last one. A
 * joiner that gives up takes itself off the list under the table's lock,
 * so the flight never points at a joiner that has left. */
#include "flight.h"

#include <stdlib.h>
#include <string.h>

#include "plat.h"

#define FLIGHT_BUCKETS 256
/* A joiner wakes at least this often to look at its deadline, whatever
 * the platform's condition variable does with long waits. */
#define FLIGHT_WAIT_SLICE_MS 1000

typedef enum { WAITING = 0, ANSWERED, ASK_AGAIN_NOW } joiner_state;

typedef struct joiner {
    struct joiner *next;
    plat_mutex *lock;
    plat_cond *wake;
    joiner_state state;       /* set under the table's lock and lock */
    void *value;              /* the joiner's buffer: the answer goes here */
} joiner;

typedef struct flight {
    struct flight *next;
    struct flight *kept_prev, *kept_next; /* the kept list, once kept */
    int kept;
    int landed;
    int shareable;
    uint64_t landed_us;       /* plat_now_us */
    joiner *joiners;          /* waiting for this flight (in the air only) */
    char key[FLIGHT_KEY_MAX + 1];
    unsigned char value[]; /* the table's value_size bytes */
} flight;

struct flight_table {
    plat_mutex *lock;
    size_t value_size;
    int keep;
    flight_session *oldest, *newest;  /* sessions, in the order they began */
    flight *kept_first, *kept_last;   /* kept answers, in the order they landed */
    unsigned long joins;
    size_t count;
    flight *buckets[FLIGHT_BUCKETS];
};

/* What flight_ask does after a wait: one of the roles, or ask again. */
enum { ASK_AGAIN = -1 };

flight_table *flight_new(size_t value_size, int keep)
{
    flight_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (!(t->lock = plat_mutex_new())) {
        free(t);
        return NULL;
    }
    t->value_size = value_size;
    t->keep = keep != 0;
    return t;
}

void flight_free(flight_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < FLIGHT_BUCKETS; i++) {
        flight *f = t->buckets[i];
        while (f) {
            flight *next = f->next;
            free(f);
            f = next;
        }
    }
    plat_mutex_free(t->lock);
    free(t);
}

static size_t bucket_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % FLIGHT_BUCKETS;
}

static flight *find(flight_table *t, const char *key)
{
    for (flight *f = t->buckets[bucket_of(key)]; f; f = f->next)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

static void unlist_kept(flight_table *t, flight *f)
{
    if (!f->kept)
        return;
    if (f->kept_prev)
        f->kept_prev->kept_next = f->kept_next;
    else
        t->kept_first = f->kept_next;
    if (f->kept_next)
        f->kept_next->kept_prev = f->kept_prev;
    else
        t->kept_last = f->kept_prev;
    f->kept = 0;
}

static void list_kept(flight_table *t, flight *f)
{
    f->kept = 1;
    f->kept_next = NULL;
    f->kept_prev = t->kept_last;
    if (t->kept_last)
        t->kept_last->kept_next = f;
    else
        t->kept_first = f;
    t->kept_last = f;
}

/* Out of the table, and freed: no joiner points at a landed flight. */
static void unlink_flight(flight_table *t, flight *f)
{
    flight **link = &t->buckets[bucket_of(f->key)];
    while (*link != f)
        link = &(*link)->next;
    *link = f->next;
    unlist_kept(t, f);
    t->count--;
    free(f);
}

/* Kept answers no session can take any more: those that landed before
 * the oldest session began, or all when there is none. */
static void drop_unwanted(flight_table *t)
{
    while (t->kept_first && (!t->oldest || t->kept_first->landed_us <= t->oldest->began_us))
        unlink_flight(t, t->kept_first);
}

void flight_session_begin(flight_table *t, flight_session *s)
{
    plat_mutex_lock(t->lock);
    s->began_us = plat_now_us();
    s->next = NULL;
    s->prev = t->newest;
    if (t->newest)
        t->newest->next = s;
    else
        t->oldest = s;
    t->newest = s;
    plat_mutex_unlock(t->lock);
}

void flight_session_end(flight_table *t, flight_session *s)
{
    plat_mutex_lock(t->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        t->oldest = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        t->newest = s->prev;
    drop_unwanted(t);
    plat_mutex_unlock(t->lock);
}

/* A new flight in the air for key; NULL when out of memory (the caller
 * then leads alone). */
static flight *start_flight(flight_table *t, const char *key)
{
    flight *f = calloc(1, sizeof *f + t->value_size);
    if (!f)
        return NULL;
    memcpy(f->key, key, strlen(key) + 1);
    size_t b = bucket_of(key);
    f->next = t->buckets[b];
    t->buckets[b] = f;
    t->count++;
    return f;
}

/* The flight for key that may serve an asker whose session is s, or NULL;
 * a kept answer that may not (it landed before s began) is dropped, so
 * the asker leads a fresh flight. */
static flight *usable(flight_table *t, const char *key, const flight_session *s)
{
    flight *f = find(t, key);
    if (f && f->landed && !(s && f->landed_us > s->began_us)) {
        unlink_flight(t, f);
        f = NULL;
    }
    return f;
}

static void take_answer(flight_table *t, const flight *f, void *value)
{
    memcpy(value, f->value, t->value_size);
    t->joins++;
}

static void joiner_free(joiner *j)
{
    plat_cond_free(j->wake);
    plat_mutex_free(j->lock);
    free(j);
}

static joiner *joiner_new(void *value)
{
    joiner *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->lock = plat_mutex_new();
    j->wake = plat_cond_new();
    if (!j->lock || !j->wake) {
        joiner_free(j);
        return NULL;
    }
    j->value = value;
    return j;
}

/* Takes j off f's list, if it is there. */
static void leave(flight *f, joiner *j)
{
    for (joiner **link = &f->joiners; *link; link = &(*link)->next)
        if (*link == j) {
            *link = j->next;
            return;
        }
}

/* Waits on j's own lock, without the table's, until the leader answers
 * or deadline_ms passes. An answered joiner returns without touching the
 * table's lock again: that is what keeps 64 joiners from queueing for it. */
static joiner_state wait_answer(joiner *j, uint64_t deadline_ms)
{
    plat_mutex_lock(j->lock);
    for (uint64_t now = plat_now_ms(); j->state == WAITING && now < deadline_ms;
         now = plat_now_ms()) {
        uint64_t left = deadline_ms - now;
        plat_cond_wait_ms(j->wake, j->lock,
                          (unsigned)(left < FLIGHT_WAIT_SLICE_MS ? left : FLIGHT_WAIT_SLICE_MS));
    }
    joiner_state st = j->state;
    plat_mutex_unlock(j->lock);
    return st;
}

/* After a wait that ended unanswered, with the table's lock held: the
 * leader answers under that lock, so what j says now holds. */
static int after_wait(flight *f, joiner *j, uint64_t deadline_ms)
{
    switch (j->state) {
    case ANSWERED:
        return FLIGHT_JOINED;
    case ASK_AGAIN_NOW:
        return plat_now_ms() < deadline_ms ? ASK_AGAIN : FLIGHT_TIMED_OUT;
    case WAITING:
        break;
    }
    leave(f, j); /* still in the air, so f is still there */
    return FLIGHT_TIMED_OUT;
}

flight_role flight_ask(flight_table *t, const char *key, const flight_session *s,
                       uint64_t deadline_ms, void *value)
{
    if (strlen(key) > FLIGHT_KEY_MAX)
        return FLIGHT_LEAD;
    int role;
    joiner *j = NULL;
    plat_mutex_lock(t->lock);
    do {
        flight *f = usable(t, key, s);
        if (!f) {
            start_flight(t, key);
            role = FLIGHT_LEAD;
        } else if (f->landed) {
            take_answer(t, f, value);
            role = FLIGHT_JOINED;
        } else if (j || (j = joiner_new(value)) != NULL) {
            j->state = WAITING;
            j->next = f->joiners;
            f->joiners = j;
            plat_mutex_unlock(t->lock);
            if (wait_answer(j, deadline_ms) == ANSWERED) {
                joiner_free(j);
                return FLIGHT_JOINED;
            }
            plat_mutex_lock(t->lock);
            role = after_wait(f, j, deadline_ms);
        } else {
            role = FLIGHT_LEAD; /* no memory to wait: work alone */
        }
    } while (role == ASK_AGAIN);
    plat_mutex_unlock(t->lock);
    if (j)
        joiner_free(j);
    return (flight_role)role;
}

int flight_try_lead(flight_table *t, const char *key)
{
    if (strlen(key) > FLIGHT_KEY_MAX)
        return 1;
    plat_mutex_lock(t->lock);
    flight *f = find(t, key);
    int lead = !f || f->landed;
    if (lead) {
        if (f)
            unlink_flight(t, f);
        start_flight(t, key);
    }
    plat_mutex_unlock(t->lock);
    return lead;
}

/* Every joiner gets the answer in its own buffer (or is told to ask
 * again) and is woken on its own lock, with the table's lock held. */
static void answer_joiners(flight_table *t, flight *f)
{
    joiner *next;
    for (joiner *j = f->joiners; j; j = next) {
        /* Once woken, an answered joiner frees j: nothing after the
         * unlock may touch it. */
        next = j->next;
        plat_mutex_lock(j->lock);
        if (f->shareable) {
            memcpy(j->value, f->value, t->value_size);
            t->joins++;
        }
        j->state = f->shareable ? ANSWERED : ASK_AGAIN_NOW;
        plat_cond_signal(j->wake);
        plat_mutex_unlock(j->lock);
    }
    f->joiners = NULL;
}

void flight_land(flight_table *t, const char *key, const void *value, int shareable)
{
    if (strlen(key) > FLIGHT_KEY_MAX)
        return;
    plat_mutex_lock(t->lock);
    flight *f = find(t, key);
    if (f && !f->landed) {
        memcpy(f->value, value, t->value_size);
        f->landed = 1;
        f->shareable = shareable;
        f->landed_us = plat_now_us();
        answer_joiners(t, f);
        /* An answer nobody may keep, or no session could take, leaves
         * the table now, so the next asker leads a fresh flight. */
        if (!shareable || !t->keep || !t->oldest) {
            unlink_flight(t, f);
        } else {
            list_kept(t, f);
        }
    }
    plat_mutex_unlock(t->lock);
}

int flight_in_air(flight_table *t, const char *key)
{
    if (strlen(key) > FLIGHT_KEY_MAX)
        return 0;
    plat_mutex_lock(t->lock);
    flight *f = find(t, key);
    int in_air = f && !f->landed;
    plat_mutex_unlock(t->lock);
    return in_air;
}

unsigned long flight_joins(flight_table *t)
{
    plat_mutex_lock(t->lock);
    unsigned long n = t->joins;
    plat_mutex_unlock(t->lock);
    return n;
}

size_t flight_count(flight_table *t)
{
    plat_mutex_lock(t->lock);
    size_t n = t->count;
    plat_mutex_unlock(t->lock);
    return n;
}
