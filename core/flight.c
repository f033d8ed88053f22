/* flight: a chained hash table of flights under one mutex. A flight stays
 * in the table while it is in the air and, once landed, while its answer
 * is kept; at most one flight per key is in the table.
 *
 * Kept answers are listed in the order they landed, and sessions in the
 * order they began: when the oldest session ends, the answers that landed
 * before the next oldest began (or all, when none is left) go from the
 * front of their list.
 *
 * Joiners wait on the flight's one-shot event (made when the first one
 * joins): landing writes the answer into the flight and sets the event,
 * which wakes every joiner with one call; each copies the answer out with
 * no lock held. Both alternatives cost the last of 63 joiners on two
 * cores milliseconds (bench_nowait burst): a broadcast on the table's
 * lock wakes them into a queue for that one lock, and a lock and signal
 * per joiner has the leader switch to each woken joiner in turn.
 *
 * A flight is counted (refs): one for the table while the flight is in
 * it, one for each joiner until it has read the answer or given up; the
 * last to let go frees it, so a landed flight stays readable for its
 * joiners after it left the table. */
#include "flight.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"

#define FLIGHT_BUCKETS 256
/* A joiner wakes at least this often to look at its deadline, whatever
 * the platform's condition variable does with long waits. */
#define FLIGHT_WAIT_SLICE_MS 1000

typedef struct flight {
    struct flight *next;
    struct flight *kept_prev, *kept_next; /* the kept list, once kept */
    _Atomic int refs;         /* the table's and the joiners' */
    int kept;
    int landed;               /* value and shareable are final once set */
    int shareable;
    int waiting;              /* joiners in the air with it (table's lock) */
    uint64_t landed_us;       /* plat_now_us */
    plat_event *landing;      /* set when it lands; made by the first joiner */
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

/* Besides the roles: what flight_ask does next. */
enum { ASK_AGAIN = -1, WAIT = -2 };

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

static void release(flight *f)
{
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
        plat_event_free(f->landing);
        free(f);
    }
}

void flight_free(flight_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < FLIGHT_BUCKETS; i++) {
        flight *f = t->buckets[i];
        while (f) {
            flight *next = f->next;
            release(f);
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

/* Out of the table; freed once its joiners have let go too. */
static void unlink_flight(flight_table *t, flight *f)
{
    flight **link = &t->buckets[bucket_of(f->key)];
    while (*link != f)
        link = &(*link)->next;
    *link = f->next;
    unlist_kept(t, f);
    t->count--;
    release(f);
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
    atomic_init(&f->refs, 1);
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

/* Joins f, in the air: 0, or -1 when there is no memory to wait (the
 * asker then works alone). With the table's lock held. */
static int join(flight *f)
{
    if (!f->landing && !(f->landing = plat_event_new()))
        return -1;
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    f->waiting++;
    return 0;
}

/* What a joiner of f, landed, does: takes a shared answer, or asks again
 * while its deadline allows. */
static int after_landing(const flight_table *t, const flight *f, uint64_t deadline_ms,
                         void *value)
{
    if (f->shareable) {
        memcpy(value, f->value, t->value_size);
        return FLIGHT_JOINED;
    }
    return plat_now_ms() < deadline_ms ? ASK_AGAIN : FLIGHT_TIMED_OUT;
}

/* Waits for f to land, without the table's lock, until deadline_ms; the
 * role, or ASK_AGAIN. An answered joiner reads the answer and lets go of
 * f without touching the table's lock: that is what keeps 63 joiners
 * from queueing for it. Lets go of f either way. */
static int wait_landing(flight_table *t, flight *f, uint64_t deadline_ms, void *value)
{
    int landed = 0;
    for (uint64_t now = plat_now_ms(); !landed && now < deadline_ms; now = plat_now_ms()) {
        uint64_t left = deadline_ms - now;
        landed = plat_event_wait_ms(
            f->landing, (unsigned)(left < FLIGHT_WAIT_SLICE_MS ? left : FLIGHT_WAIT_SLICE_MS));
    }
    int role;
    if (landed) {
        role = after_landing(t, f, deadline_ms, value);
    } else {
        /* Landed now or still in the air: the leader lands under the
         * table's lock, so what f says there holds. */
        plat_mutex_lock(t->lock);
        if (f->landed) {
            role = after_landing(t, f, deadline_ms, value);
        } else {
            f->waiting--;
            role = FLIGHT_TIMED_OUT;
        }
        plat_mutex_unlock(t->lock);
    }
    release(f);
    return role;
}

/* Under the table's lock: leads key, takes a kept answer, or joins the
 * flight in the air (WAIT: *joined is it, for the caller to wait on
 * once it has let go of the lock). */
static int ask_locked(flight_table *t, const char *key, const flight_session *s, void *value,
                      flight **joined)
{
    flight *f = usable(t, key, s);
    *joined = NULL;
    if (!f) {
        start_flight(t, key);
        return FLIGHT_LEAD;
    }
    if (f->landed) {
        take_answer(t, f, value);
        return FLIGHT_JOINED;
    }
    if (join(f) != 0)
        return FLIGHT_LEAD; /* no memory to wait: work alone */
    *joined = f;
    return WAIT;
}

flight_role flight_ask(flight_table *t, const char *key, const flight_session *s,
                       uint64_t deadline_ms, void *value)
{
    if (strlen(key) > FLIGHT_KEY_MAX)
        return FLIGHT_LEAD;
    int role;
    do {
        flight *joined;
        plat_mutex_lock(t->lock);
        role = ask_locked(t, key, s, value, &joined);
        plat_mutex_unlock(t->lock);
        if (role == WAIT)
            role = wait_landing(t, joined, deadline_ms, value);
    } while (role == ASK_AGAIN);
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
        if (shareable)
            t->joins += (unsigned long)f->waiting; /* each takes the answer */
        f->waiting = 0;
        /* Set before the table lets go of f (below): the joiners still
         * hold it, so it is there until each has read the answer. */
        if (f->landing)
            plat_event_set(f->landing);
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
