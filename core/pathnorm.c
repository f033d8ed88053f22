/* pathnorm: the root first (drive, UNC share, "/" or none), then the names
 * one by one onto the output as onto a stack: "." and empty names vanish,
 * ".." pops the last name. */
#include "pathnorm.h"

#include "plat.h"

#include <string.h>

typedef struct {
    char *buf;
    size_t len, cap;
    size_t root;          /* length of the root part, never popped */
    int absolute;         /* ".." at the root is dropped, not kept */
    int overflow;
    pathnorm_rules rules;
} path_out;

pathnorm_rules pathnorm_native(void)
{
    return plat_dir_sep()[0] == '\\' ? PATHNORM_WINDOWS : PATHNORM_POSIX;
}

static int is_sep(char c, pathnorm_rules rules)
{
    return c == '/' || (rules == PATHNORM_WINDOWS && c == '\\');
}

static char sep_of(pathnorm_rules rules) { return rules == PATHNORM_WINDOWS ? '\\' : '/'; }

static void put(path_out *o, const char *s, size_t n)
{
    if (o->overflow || o->len + n >= o->cap) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_sep(path_out *o)
{
    char c = sep_of(o->rules);
    put(o, &c, 1);
}

/* Length of the name at p (up to the next separator or the end). */
static size_t name_len(const char *p, pathnorm_rules rules)
{
    size_t n = 0;
    while (p[n] && !is_sep(p[n], rules))
        n++;
    return n;
}

/* Windows roots: "\\server\share", "X:\", "X:" (relative to that drive's
 * current folder) and "\" (the current drive's root). Returns the input
 * consumed. */
static size_t windows_root(const char *p, path_out *o)
{
    if (is_sep(p[0], o->rules) && is_sep(p[1], o->rules) && p[2] && !is_sep(p[2], o->rules)) {
        size_t at = 2, server = name_len(p + at, o->rules);
        put(o, "\\\\", 2);
        put(o, p + at, server);
        at += server;
        if (is_sep(p[at], o->rules) && p[at + 1] && !is_sep(p[at + 1], o->rules)) {
            size_t share = name_len(p + at + 1, o->rules);
            put_sep(o);
            put(o, p + at + 1, share);
            at += 1 + share;
        }
        o->absolute = 1;
        return at;
    }
    if (((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')) && p[1] == ':') {
        put(o, p, 2);
        o->absolute = is_sep(p[2], o->rules);
        if (o->absolute)
            put_sep(o);
        return o->absolute ? 3 : 2;
    }
    if (is_sep(p[0], o->rules)) {
        put_sep(o);
        o->absolute = 1;
        return 1;
    }
    return 0;
}

static size_t root_of(const char *p, path_out *o)
{
    if (o->rules == PATHNORM_WINDOWS)
        return windows_root(p, o);
    if (p[0] == '/') {
        put_sep(o);
        o->absolute = 1;
        return 1;
    }
    return 0;
}

static int last_name_is_dotdot(const path_out *o)
{
    size_t n = o->len - o->root;
    const char *end = o->buf + o->len;
    if (n < 2 || end[-1] != '.' || end[-2] != '.')
        return 0;
    return n == 2 || is_sep(end[-3], o->rules);
}

/* "..": drop the last name; at an absolute root there is nothing above
 * (Windows and POSIX both stay at the root), a relative path keeps it. */
static void pop(path_out *o)
{
    if (o->len == o->root || last_name_is_dotdot(o)) {
        if (o->absolute)
            return;
        if (o->len > o->root)
            put_sep(o);
        put(o, "..", 2);
        return;
    }
    size_t at = o->len;
    while (at > o->root && !is_sep(o->buf[at - 1], o->rules))
        at--;
    /* at is just past the separator before the name, or the root. */
    o->len = at > o->root ? at - 1 : o->root;
    o->buf[o->len] = '\0';
}

static void push(path_out *o, const char *name, size_t n)
{
    /* Win32 ignores trailing dots and spaces of a name ("Pickup." is
     * "Pickup"); a name of dots only is left alone. */
    if (o->rules == PATHNORM_WINDOWS && strspn(name, ".") < n)
        while (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' '))
            n--;
    if (n == 0)
        return;
    if (o->len > 0 && !is_sep(o->buf[o->len - 1], o->rules) &&
        !(o->len == o->root && !o->absolute))
        put_sep(o);
    put(o, name, n);
}

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* "\\?\C:\x" is "C:\x" and "\\?\UNC\srv\share" is "\\srv\share". */
static const char *skip_long_prefix(const char *p, pathnorm_rules rules, int *unc)
{
    *unc = 0;
    if (rules != PATHNORM_WINDOWS || !is_sep(p[0], rules) || !is_sep(p[1], rules) || p[2] != '?' ||
        !is_sep(p[3], rules))
        return p;
    p += 4;
    if ((p[0] == 'U' || p[0] == 'u') && (p[1] == 'N' || p[1] == 'n') &&
        (p[2] == 'C' || p[2] == 'c') && is_sep(p[3], rules)) {
        *unc = 1;
        return p + 3; /* keeps one separator; the UNC root adds the other */
    }
    return p;
}

int pathnorm_normalise(const char *path, pathnorm_rules rules, char *out, size_t len)
{
    path_out o = { out, 0, len, 0, 0, 0, rules };
    int unc;
    if (!path || !*path || len == 0)
        return -1;
    out[0] = '\0';
    const char *p = skip_long_prefix(path, rules, &unc);
    if (unc) {
        char with_unc[PLAT_PATH_MAX + 2];
        if (strlen(p) + 2 > sizeof with_unc)
            return -1;
        with_unc[0] = '\\';
        memcpy(with_unc + 1, p, strlen(p) + 1);
        return pathnorm_normalise(with_unc, rules, out, len);
    }
    p += root_of(p, &o);
    o.root = o.len;
    while (*p) {
        size_t n = name_len(p, rules);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            pop(&o);
        else if (n > 0 && !(n == 1 && p[0] == '.'))
            push(&o, p, n);
        p += n;
        while (*p && is_sep(*p, rules))
            p++;
    }
    if (o.len == 0)
        put(&o, ".", 1); /* a relative path that cancelled out: here */
    if (o.overflow)
        return -1;
    if (rules == PATHNORM_WINDOWS)
        lower_ascii(out);
    return 0;
}

int pathnorm_same(const char *a, const char *b, pathnorm_rules rules)
{
    char na[PLAT_PATH_MAX], nb[PLAT_PATH_MAX];
    if (pathnorm_normalise(a, rules, na, sizeof na) != 0 ||
        pathnorm_normalise(b, rules, nb, sizeof nb) != 0)
        return 0;
    return strcmp(na, nb) == 0;
}
