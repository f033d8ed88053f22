/* store rules and their domain lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "store_priv.h"

/* ---- rules ------------------------------------------------------------ */

static int has_control(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 1;
    return 0;
}

static store_status check_name(store *s, const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return store_fail(s, STORE_ERR_INVALID, "rule name is empty");
    if (len > STORE_NAME_MAX)
        return store_fail(s, STORE_ERR_INVALID, "rule name longer than %d characters", STORE_NAME_MAX);
    if (has_control(name))
        return store_fail(s, STORE_ERR_INVALID, "rule name contains a control character");
    if (name[0] == ' ' || name[len - 1] == ' ')
        return store_fail(s, STORE_ERR_INVALID, "rule name starts or ends with a space");
    return STORE_OK;
}

static store_status check_pickup(store *s, const char *dir)
{
    if (!dir || !*dir)
        return store_fail(s, STORE_ERR_INVALID, "pickup folder is empty");
    if (strlen(dir) >= PLAT_PATH_MAX)
        return store_fail(s, STORE_ERR_INVALID, "pickup folder path is too long");
    if (has_control(dir))
        return store_fail(s, STORE_ERR_INVALID, "pickup folder contains a control character");
    return STORE_OK;
}

static store_status check_source(store *s, int source)
{
    if (source < 1 || source > STORE_SOURCE_MAX)
        return store_fail(s, STORE_ERR_INVALID, "source instance must be 1 to %d", STORE_SOURCE_MAX);
    return STORE_OK;
}

static void read_rule(sqlite3_stmt *st, store_rule *r)
{
    const char *name = (const char *)sqlite3_column_text(st, 1);
    const char *dir = (const char *)sqlite3_column_text(st, 4);
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    r->enabled = sqlite3_column_int(st, 2);
    r->source_instance = sqlite3_column_int(st, 3);
    snprintf(r->pickup_dir, sizeof r->pickup_dir, "%s", dir ? dir : "");
    r->expired_cert = sqlite3_column_int(st, 5);
    r->created_ms = sqlite3_column_int64(st, 6);
    r->updated_ms = sqlite3_column_int64(st, 7);
}

store_status store_rule_add(store *s, const char *name, const char *pickup_dir,
                            int source_instance, int64_t *id)
{
    store_status r = check_name(s, name);
    if (r == STORE_OK)
        r = check_pickup(s, pickup_dir);
    if (r == STORE_OK)
        r = check_source(s, source_instance);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *st = store_stmt(s, Q_RULE_ADD);
    if (!st)
        return STORE_ERR_IO;
    if ((r = store_begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pickup_dir, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, source_instance);
    sqlite3_bind_int64(st, 4, plat_wall_ms());
    int rc = sqlite3_step(st);
    store_stmt_done(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return store_rollback(s, store_fail(s, STORE_ERR_EXISTS, "rule '%s' exists already", name));
    if (rc != SQLITE_DONE)
        return store_rollback(s, store_fail_sql(s, "cannot add the rule"));
    if (id)
        *id = sqlite3_last_insert_rowid(s->db);
    return store_commit(s);
}

/* Run a one-row rule query; NOT_FOUND names what was looked for. */
static store_status fetch_rule(store *s, sqlite3_stmt *st, store_rule *rule, const char *what)
{
    int rc = sqlite3_step(st);
    store_status r = STORE_OK;
    if (rc == SQLITE_ROW)
        read_rule(st, rule);
    else if (rc == SQLITE_DONE)
        r = store_fail(s, STORE_ERR_NOT_FOUND, "%s", what);
    else
        r = store_fail_sql(s, "cannot read rules");
    store_stmt_done(st);
    return r;
}

store_status store_rule_get(store *s, const char *name, store_rule *rule)
{
    char what[STORE_NAME_MAX + 32];
    sqlite3_stmt *st = store_stmt(s, Q_RULE_GET);
    if (!st)
        return STORE_ERR_IO;
    snprintf(what, sizeof what, "no rule named '%s'", name);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return fetch_rule(s, st, rule, what);
}

store_status store_rule_for_source(store *s, int source_instance, store_rule *rule)
{
    char what[64];
    sqlite3_stmt *st = store_stmt(s, Q_RULE_FOR_SOURCE);
    if (!st)
        return STORE_ERR_IO;
    snprintf(what, sizeof what, "no enabled rule for virtual server %d", source_instance);
    sqlite3_bind_int(st, 1, source_instance);
    return fetch_rule(s, st, rule, what);
}

store_status store_rule_list(store *s, store_rule **rules, size_t *count)
{
    sqlite3_stmt *st = store_stmt(s, Q_RULE_LIST);
    store_rule *list = NULL;
    size_t n = 0, cap = 0;
    int rc;
    *rules = NULL;
    *count = 0;
    if (!st)
        return STORE_ERR_IO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            store_rule *grown = realloc(list, ncap * sizeof *list);
            if (!grown) {
                free(list);
                store_stmt_done(st);
                return store_fail(s, STORE_ERR_NOMEM, "out of memory");
            }
            list = grown;
            cap = ncap;
        }
        read_rule(st, &list[n++]);
    }
    store_stmt_done(st);
    if (rc != SQLITE_DONE) {
        free(list);
        return store_fail_sql(s, "cannot read rules");
    }
    *rules = list;
    *count = n;
    return STORE_OK;
}

void store_rule_change_init(store_rule_change *change)
{
    change->enabled = STORE_UNCHANGED;
    change->expired_cert = STORE_UNCHANGED;
    change->source_instance = STORE_UNCHANGED;
    change->pickup_dir = NULL;
}

static void bind_optional_int(sqlite3_stmt *st, int col, int v)
{
    if (v == STORE_UNCHANGED)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_int(st, col, v);
}

static store_status check_change(store *s, const store_rule_change *c)
{
    if (c->enabled != STORE_UNCHANGED && c->enabled != 0 && c->enabled != 1)
        return store_fail(s, STORE_ERR_INVALID, "enabled must be on or off");
    if (c->expired_cert != STORE_UNCHANGED && c->expired_cert != 0 && c->expired_cert != 1)
        return store_fail(s, STORE_ERR_INVALID, "expired-cert must be on or off");
    if (c->source_instance != STORE_UNCHANGED && check_source(s, c->source_instance) != STORE_OK)
        return STORE_ERR_INVALID;
    return c->pickup_dir ? check_pickup(s, c->pickup_dir) : STORE_OK;
}

store_status store_rule_update(store *s, const char *name, const store_rule_change *change)
{
    store_status r = check_change(s, change);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *st = store_stmt(s, Q_RULE_UPDATE);
    if (!st)
        return STORE_ERR_IO;
    if ((r = store_begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_optional_int(st, 2, change->enabled);
    bind_optional_int(st, 3, change->expired_cert);
    bind_optional_int(st, 4, change->source_instance);
    if (change->pickup_dir)
        sqlite3_bind_text(st, 5, change->pickup_dir, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, plat_wall_ms());
    r = store_step_done(s, st, "cannot change the rule");
    if (r != STORE_OK)
        return store_rollback(s, r);
    if (sqlite3_changes(s->db) == 0)
        return store_rollback(s, store_fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", name));
    return store_commit(s);
}

store_status store_rule_rename(store *s, const char *old_name, const char *new_name)
{
    store_status r = check_name(s, new_name);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *st = store_stmt(s, Q_RULE_RENAME);
    if (!st)
        return STORE_ERR_IO;
    if ((r = store_begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, old_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, new_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, plat_wall_ms());
    /* The UNIQUE NOCASE constraint compares the row with the others only,
     * so "mail" -> "Mail" passes and a name another rule holds fails. */
    int rc = sqlite3_step(st);
    store_stmt_done(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return store_rollback(s, store_fail(s, STORE_ERR_EXISTS, "rule '%s' exists already", new_name));
    if (rc != SQLITE_DONE)
        return store_rollback(s, store_fail_sql(s, "cannot rename the rule"));
    if (sqlite3_changes(s->db) == 0)
        return store_rollback(s, store_fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", old_name));
    return store_commit(s);
}

store_status store_rule_delete(store *s, const char *name)
{
    sqlite3_stmt *st = store_stmt(s, Q_RULE_DELETE);
    store_status r;
    if (!st)
        return STORE_ERR_IO;
    if ((r = store_begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    r = store_step_done(s, st, "cannot delete the rule");
    if (r != STORE_OK)
        return store_rollback(s, r);
    if (sqlite3_changes(s->db) == 0)
        return store_rollback(s, store_fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", name));
    return store_commit(s);
}

/* ---- domain lists ----------------------------------------------------- */

static const char *const list_names[] = { "force-plain", "never-redirect" };

const char *store_list_name(store_list list)
{
    return list == STORE_LIST_NEVER_REDIRECT ? list_names[1] : list_names[0];
}

int store_list_parse(const char *name, store_list *list)
{
    if (name && strcmp(name, list_names[0]) == 0)
        *list = STORE_LIST_FORCE_PLAIN;
    else if (name && strcmp(name, list_names[1]) == 0)
        *list = STORE_LIST_NEVER_REDIRECT;
    else
        return -1;
    return 0;
}

static store_status rule_id(store *s, const char *name, int64_t *id)
{
    sqlite3_stmt *st = store_stmt(s, Q_RULE_ID);
    store_status r = STORE_OK;
    if (!st)
        return STORE_ERR_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        r = store_fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", name);
    else
        r = store_fail_sql(s, "cannot read rules");
    store_stmt_done(st);
    return r;
}

/* Normalise every pattern first, so a bad one changes nothing. Patterns
 * added to a force-plain list must also pass domain_force_plain_problem;
 * removing one never fails on it (an old list can be cleaned up). */
static store_status normalize_all(store *s, store_list list, int adding,
                                  const char *const *patterns, size_t count,
                                  char (**norm)[DOMAIN_BUF])
{
    *norm = NULL;
    if (count == 0)
        return store_fail(s, STORE_ERR_INVALID, "no domain pattern given");
    char (*out)[DOMAIN_BUF] = malloc(count * sizeof *out);
    if (!out)
        return store_fail(s, STORE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const char *why = NULL;
        if (domain_pattern_normalize(patterns[i], out[i], &why) != 0 ||
            (adding && list == STORE_LIST_FORCE_PLAIN &&
             (why = domain_force_plain_problem(out[i])) != NULL)) {
            free(out);
            return store_fail(s, STORE_ERR_INVALID, "bad domain pattern '%s': %s",
                        patterns[i] ? patterns[i] : "", why);
        }
    }
    *norm = out;
    return STORE_OK;
}

/* Add (remove = 0) or remove patterns in one transaction. */
static store_status domains_change(store *s, const char *rule, store_list list,
                                   const char *const *patterns, size_t count, int remove)
{
    char (*norm)[DOMAIN_BUF];
    int64_t id;
    store_status r = normalize_all(s, list, !remove, patterns, count, &norm);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *st = store_stmt(s, remove ? Q_DOMAIN_REMOVE : Q_DOMAIN_ADD);
    if (!st || (r = store_begin_write(s)) != STORE_OK) {
        free(norm);
        return st ? r : STORE_ERR_IO;
    }
    r = rule_id(s, rule, &id);
    for (size_t i = 0; r == STORE_OK && i < count; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, store_list_name(list), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, norm[i], -1, SQLITE_STATIC);
        r = store_step_done(s, st, remove ? "cannot remove a pattern" : "cannot add a pattern");
        if (r == STORE_OK && remove && sqlite3_changes(s->db) == 0)
            r = store_fail(s, STORE_ERR_NOT_FOUND, "'%s' is not on the %s list of rule '%s'",
                     norm[i], store_list_name(list), rule);
    }
    free(norm);
    return r == STORE_OK ? store_commit(s) : store_rollback(s, r);
}

store_status store_domains_check(store *s, store_list list, const char *const *patterns,
                                 size_t count)
{
    char (*norm)[DOMAIN_BUF];
    store_status r = normalize_all(s, list, 1, patterns, count, &norm);
    free(norm);
    return r;
}

store_status store_domains_add(store *s, const char *rule, store_list list,
                               const char *const *patterns, size_t count)
{
    return domains_change(s, rule, list, patterns, count, 0);
}

store_status store_domains_remove(store *s, const char *rule, store_list list,
                                  const char *const *patterns, size_t count)
{
    return domains_change(s, rule, list, patterns, count, 1);
}

void store_strings_free(char **strings, size_t count)
{
    if (!strings)
        return;
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

static char *dup_text(const unsigned char *t)
{
    const char *src = t ? (const char *)t : "";
    size_t len = strlen(src) + 1;
    char *copy = malloc(len);
    if (copy)
        memcpy(copy, src, len);
    return copy;
}

store_status store_domains_list(store *s, const char *rule, store_list list,
                                char ***patterns, size_t *count)
{
    int64_t id;
    char **out = NULL;
    size_t n = 0, cap = 0;
    int rc;
    *patterns = NULL;
    *count = 0;
    store_status r = rule_id(s, rule, &id);
    sqlite3_stmt *st = r == STORE_OK ? store_stmt(s, Q_DOMAIN_LIST) : NULL;
    if (!st)
        return r != STORE_OK ? r : STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, store_list_name(list), -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(out, ncap * sizeof *out);
            if (!grown)
                break;
            out = grown;
            cap = ncap;
        }
        if (!(out[n] = dup_text(sqlite3_column_text(st, 0))))
            break;
        n++;
    }
    store_stmt_done(st);
    if (rc != SQLITE_DONE) {
        store_strings_free(out, n);
        return rc == SQLITE_ROW ? store_fail(s, STORE_ERR_NOMEM, "out of memory")
                                : store_fail_sql(s, "cannot read a domain list");
    }
    *patterns = out;
    *count = n;
    return STORE_OK;
}
