/* domset: open-addressing hash tables, one for exact domains and one for
 * the suffixes of wildcard patterns. A lookup probes the domain itself,
 * then each parent suffix, so a list of 10,000 patterns costs no more
 * than a list of one. */
#include "domset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **slots;
    size_t cap;   /* power of two, or 0 */
    size_t count;
} strtab;

struct domset {
    strtab exact;
    strtab wild;  /* "*.example.com" stored as "example.com" */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int strtab_find(const strtab *t, const char *s, size_t n)
{
    if (t->count == 0)
        return 0;
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        const char *slot = t->slots[i];
        if (!slot)
            return 0;
        if (strncmp(slot, s, n) == 0 && slot[n] == '\0')
            return 1;
    }
}

static void strtab_put(strtab *t, char *owned)
{
    size_t mask = t->cap - 1;
    size_t i = (size_t)hash_bytes(owned, strlen(owned)) & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = owned;
    t->count++;
}

static int strtab_grow(strtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 16;
    char **old = t->slots;
    size_t ocap = t->cap;
    t->slots = calloc(ncap, sizeof *t->slots);
    if (!t->slots) {
        t->slots = old;
        return -1;
    }
    t->cap = ncap;
    t->count = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            strtab_put(t, old[i]);
    free(old);
    return 0;
}

static int strtab_add(strtab *t, const char *s)
{
    size_t n = strlen(s);
    if (strtab_find(t, s, n))
        return 0;
    /* Keep the load under one half so probe chains stay short. */
    if ((t->count + 1) * 2 > t->cap && strtab_grow(t) != 0)
        return -1;
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, n + 1);
    strtab_put(t, copy);
    return 0;
}

static void strtab_free(strtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i]);
    free(t->slots);
}

domset *domset_new(void) { return calloc(1, sizeof(domset)); }

void domset_free(domset *s)
{
    if (!s)
        return;
    strtab_free(&s->exact);
    strtab_free(&s->wild);
    free(s);
}

int domset_add(domset *s, const char *pattern)
{
    if (!pattern || !*pattern)
        return -1;
    if (pattern[0] == '*' && pattern[1] == '.' && pattern[2])
        return strtab_add(&s->wild, pattern + 2);
    return strtab_add(&s->exact, pattern);
}

size_t domset_count(const domset *s) { return s->exact.count + s->wild.count; }

int domset_matches(const domset *s, const char *domain)
{
    if (!s || !domain)
        return 0;
    size_t n = strlen(domain);
    if (strtab_find(&s->exact, domain, n))
        return 1;
    if (s->wild.count == 0)
        return 0;
    /* Every proper suffix after a dot: a.b.example.com tries
     * b.example.com, example.com, com. */
    for (const char *p = strchr(domain, '.'); p; p = strchr(p + 1, '.')) {
        const char *suffix = p + 1;
        if (*suffix && strtab_find(&s->wild, suffix, n - (size_t)(suffix - domain)))
            return 1;
    }
    return 0;
}
