/* store settings: typed access, and validation of the keys, kinds and
 * ranges of settings.h. */
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "settings.h"
#include "store_priv.h"

/* ---- settings --------------------------------------------------------- */

/* The log levels are the log_level setting's words, in log_level order. */
static const char *const *log_levels(void)
{
    return setting_at(SETTING_ID_log_level)->choices;
}

int store_log_level_parse(const char *name)
{
    const char *const *levels = log_levels();
    for (int i = 0; name && levels[i]; i++)
        if (strcmp(name, levels[i]) == 0)
            return i;
    return -1;
}

const char *store_log_level_name(int level)
{
    const char *const *levels = log_levels();
    for (int i = 0; levels[i]; i++)
        if (i == level)
            return levels[i];
    return NULL;
}

/* Strict decimal: optional minus, digits only, no overflow. */
static int parse_int64(const char *s, int64_t *out)
{
    int neg = *s == '-';
    uint64_t v = 0;
    const char *p = s + neg;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_C(1) << 62))
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* "HOST[:PORT],...": addresses and names only; the probe parses them. */
static int dns_list_ok(const char *v)
{
    size_t item = 0;
    for (const char *p = v;; p++) {
        if (*p == ',' || *p == '\0') {
            if (item == 0 && !(*p == '\0' && p == v))
                return 0;
            if (*p == '\0')
                return 1;
            item = 0;
            continue;
        }
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *p))
            return 0;
        item++;
    }
}

const char *store_setting_key(size_t index)
{
    const setting_def *d = setting_at(index);
    return d ? d->key : NULL;
}

int store_setting_check(const char *key, const char *value, const char **why)
{
    const setting_def *d = key ? setting_find(key) : NULL;
    int64_t n;
    char norm[DOMAIN_BUF];
    *why = NULL;
    if (!d)
        *why = "unknown setting";
    else if (!value)
        *why = "missing value";
    else if (d->kind == SETTING_KIND_INT && parse_int64(value, &n) != 0)
        *why = "not a whole number";
    else if (d->kind == SETTING_KIND_INT && (n < d->min || n > d->max))
        *why = "number out of range";
    else if (d->kind == SETTING_KIND_DNS && !dns_list_ok(value))
        *why = "expected HOST[:PORT] separated by commas";
    else if (d->kind == SETTING_KIND_HOST && *value && domain_normalize(value, norm, why) != 0)
        ; /* why set by domain_normalize */
    else if (d->kind == SETTING_KIND_CHOICE) {
        int found = 0;
        for (int i = 0; d->choices[i]; i++)
            found |= strcmp(value, d->choices[i]) == 0;
        if (!found)
            *why = "not one of the allowed values";
    }
    return *why ? -1 : 0;
}

store_status store_setting_get(store *s, const char *key, char *buf, size_t len)
{
    sqlite3_stmt *st = store_stmt(s, Q_SETTING_GET);
    store_status r = STORE_OK;
    if (!st)
        return STORE_ERR_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if ((size_t)snprintf(buf, len, "%s", v ? v : "") >= len)
            r = store_fail(s, STORE_ERR_INVALID, "setting %s is too long", key);
    } else if (rc == SQLITE_DONE) {
        r = store_fail(s, STORE_ERR_NOT_FOUND, "no setting %s", key);
    } else {
        r = store_fail_sql(s, "cannot read a setting");
    }
    store_stmt_done(st);
    return r;
}

store_status store_setting_get_int(store *s, const char *key, int64_t *value)
{
    char buf[32];
    store_status r = store_setting_get(s, key, buf, sizeof buf);
    if (r == STORE_OK && parse_int64(buf, value) != 0)
        r = store_fail(s, STORE_ERR_INVALID, "setting %s is not a number: %s", key, buf);
    return r;
}

int64_t store_setting_int(store *s, const char *key, int64_t fallback)
{
    int64_t v = fallback;
    return store_setting_get_int(s, key, &v) == STORE_OK ? v : fallback;
}

store_status store_setting_set(store *s, const char *key, const char *value)
{
    const char *why;
    if (store_setting_check(key, value, &why) != 0)
        return store_fail(s, STORE_ERR_INVALID, "setting %s: %s", key ? key : "(none)", why);
    sqlite3_stmt *st = store_stmt(s, Q_SETTING_SET);
    if (!st)
        return STORE_ERR_IO;
    store_status r = store_begin_write(s);
    if (r != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    r = store_step_done(s, st, "cannot save a setting");
    return r == STORE_OK ? store_commit(s) : store_rollback(s, r);
}
