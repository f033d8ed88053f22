/* mgr_data: see mgr_data.h. The queries here are the console's own read
 * side (journal window, cache listings) plus the rule and setting writes
 * the manager needs. */
#include "mgr_data.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"

extern const char tr_schema_sql[];

struct mgr_db {
    sqlite3 *sql;
    char path[PLAT_PATH_MAX];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int db_fail(mgr_db *db, char *err, size_t errlen, const char *what)
{
    set_err(err, errlen, "Could not %s: %s.", what, sqlite3_errmsg(db->sql));
    return -1;
}

static void copy_text(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

/* ---- Opening and the schema ---- */

/* Runs the schema steps above the file's user_version, each step in one
 * transaction, so the manager can create a fresh database on its own. */
static int apply_schema(mgr_db *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int have = 0;
    if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "read the database version");
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);

    const char *marker = "-- @version ";
    const char *p = strstr(tr_schema_sql, marker);
    while (p) {
        int version = atoi(p + strlen(marker));
        const char *next = strstr(p + 1, marker);
        if (version > have) {
            size_t len = next ? (size_t)(next - p) : strlen(p);
            char *step = malloc(len + 128);
            if (!step) {
                set_err(err, errlen, "Out of memory while creating the database.");
                return -1;
            }
            snprintf(step, len + 128, "BEGIN;\n%.*s\nPRAGMA user_version = %d;\nCOMMIT;",
                     (int)len, p, version);
            int rc = sqlite3_exec(db->sql, step, NULL, NULL, NULL);
            free(step);
            if (rc != SQLITE_OK) {
                set_err(err, errlen, "Could not upgrade the database to version %d: %s.",
                        version, sqlite3_errmsg(db->sql));
                sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
                return -1;
            }
        }
        p = next;
    }
    return 0;
}

int mgr_db_open(const char *path, mgr_db **out, char *err, size_t errlen)
{
    mgr_db *db = calloc(1, sizeof *db);
    if (!db) {
        set_err(err, errlen, "Out of memory.");
        return -1;
    }
    snprintf(db->path, sizeof db->path, "%s", path);
    int rc = sqlite3_open_v2(path, &db->sql,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen,
                "Could not open the database %s: %s. Check that the folder exists and "
                "that you run the manager as an administrator.",
                path, db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
        mgr_db_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    sqlite3_exec(db->sql, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;", NULL, NULL, NULL);
    if (apply_schema(db, err, errlen) != 0) {
        mgr_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void mgr_db_close(mgr_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->sql);
    free(db);
}

const char *mgr_db_path(const mgr_db *db) { return db->path; }

int64_t mgr_db_file_size(mgr_db *db)
{
    sqlite3_stmt *st;
    int64_t size = -1;
    if (sqlite3_prepare_v2(db->sql,
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return size;
}

/* ---- Domain lists ---- */

static int is_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* Checks one trimmed, non-empty pattern; 0 good, -1 with the reason. */
static int check_pattern(const char *s, size_t len, char *reason, size_t rlen)
{
    const char *host = s;
    size_t hlen = len;
    if (len >= 2 && s[0] == '*' && s[1] == '.') {
        host += 2;
        hlen -= 2;
    }
    if (hlen && host[hlen - 1] == '.')
        hlen--;
    if (memchr(s, '@', len)) {
        set_err(reason, rlen, "\"%.*s\" is an e-mail address; enter only the domain after the @",
                (int)len, s);
        return -1;
    }
    if (memchr(host, '*', hlen)) {
        set_err(reason, rlen, "\"%.*s\": a wildcard is allowed only as \"*.\" at the start, "
                "as in *.example.com", (int)len, s);
        return -1;
    }
    if (hlen == 0 || hlen > 253) {
        set_err(reason, rlen, "\"%.*s\" is not a domain name (1 to 253 characters)", (int)len, s);
        return -1;
    }
    size_t labels = 0, start = 0;
    int last_all_digits = 1;
    for (size_t i = 0; i <= hlen; i++) {
        if (i < hlen && host[i] != '.') {
            if (!is_label_char(host[i])) {
                unsigned char c = (unsigned char)host[i];
                set_err(reason, rlen, c >= 0x80
                        ? "\"%.*s\" has non-ASCII letters; write international names in "
                          "punycode (xn--...)"
                        : "\"%.*s\" contains a character that is not allowed; use only letters, "
                          "digits, hyphens and dots", (int)len, s);
                return -1;
            }
            continue;
        }
        size_t l = i - start;
        if (l == 0 || l > 63) {
            set_err(reason, rlen, "\"%.*s\" has an empty or over-long part between dots",
                    (int)len, s);
            return -1;
        }
        if (host[start] == '-' || host[i - 1] == '-') {
            set_err(reason, rlen, "\"%.*s\": a part of a domain cannot begin or end with a hyphen",
                    (int)len, s);
            return -1;
        }
        last_all_digits = 1;
        for (size_t k = start; k < i; k++)
            if (host[k] < '0' || host[k] > '9')
                last_all_digits = 0;
        labels++;
        start = i + 1;
    }
    if (labels < 2) {
        set_err(reason, rlen, "\"%.*s\" needs at least two parts, as in example.com", (int)len, s);
        return -1;
    }
    if (last_all_digits) {
        set_err(reason, rlen, "\"%.*s\" looks like an IP address; enter a domain name", (int)len, s);
        return -1;
    }
    return 0;
}

/* Calls fn for each trimmed non-empty line; stops at the first non-zero. */
typedef int (*line_fn)(const char *s, size_t len, int lineno, void *ctx);

static int for_each_line(const char *text, line_fn fn, void *ctx)
{
    int lineno = 0;
    const char *p = text ? text : "";
    while (*p || lineno == 0) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        lineno++;
        const char *s = p;
        while (len && (*s == ' ' || *s == '\t' || *s == '\r')) {
            s++;
            len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
            len--;
        if (len) {
            int rc = fn(s, len, lineno, ctx);
            if (rc)
                return rc;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

struct check_ctx { char *reason; size_t rlen; };

static int check_line(const char *s, size_t len, int lineno, void *ctx)
{
    struct check_ctx *c = ctx;
    return check_pattern(s, len, c->reason, c->rlen) ? lineno : 0;
}

int mgr_domains_check(const char *text, char *reason, size_t reasonlen)
{
    struct check_ctx c = { reason, reasonlen };
    return for_each_line(text, check_line, &c);
}

/* ---- Rules ---- */

void mgr_rule_clear(mgr_rule *r)
{
    free(r->force_plain);
    free(r->never_redirect);
    memset(r, 0, sizeof *r);
}

void mgr_rules_free(mgr_rule *rules, size_t count)
{
    for (size_t i = 0; i < count; i++)
        mgr_rule_clear(&rules[i]);
    free(rules);
}

/* The patterns of one list joined by '\n', malloc'd. */
static char *load_list(mgr_db *db, int64_t rule_id, const char *list)
{
    sqlite3_stmt *st;
    size_t len = 0, cap = 64;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = 0;
    if (sqlite3_prepare_v2(db->sql,
            "SELECT pattern FROM rule_domains WHERE rule_id = ?1 AND list = ?2 ORDER BY pattern",
            -1, &st, NULL) != SQLITE_OK)
        return out;
    sqlite3_bind_int64(st, 1, rule_id);
    sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *pat = (const char *)sqlite3_column_text(st, 0);
        size_t plen = strlen(pat ? pat : "");
        if (len + plen + 2 > cap) {
            while (len + plen + 2 > cap)
                cap *= 2;
            char *grown = realloc(out, cap);
            if (!grown)
                break;
            out = grown;
        }
        if (len)
            out[len++] = '\n';
        memcpy(out + len, pat, plen);
        len += plen;
        out[len] = 0;
    }
    sqlite3_finalize(st);
    return out;
}

#define RULE_COLUMNS "id, name, enabled, source_instance, pickup_dir, expired_cert"

static void rule_from_row(mgr_db *db, sqlite3_stmt *st, mgr_rule *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    copy_text(r->name, sizeof r->name, sqlite3_column_text(st, 1));
    r->enabled = sqlite3_column_int(st, 2);
    r->source_instance = sqlite3_column_int(st, 3);
    copy_text(r->pickup_dir, sizeof r->pickup_dir, sqlite3_column_text(st, 4));
    r->expired_cert = sqlite3_column_int(st, 5);
    r->force_plain = load_list(db, r->id, "force-plain");
    r->never_redirect = load_list(db, r->id, "never-redirect");
}

int mgr_rules_list(mgr_db *db, mgr_rule **rules, size_t *count, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 8;
    mgr_rule *out = calloc(cap, sizeof *out);
    *rules = NULL;
    *count = 0;
    if (!out)
        return -1;
    if (sqlite3_prepare_v2(db->sql, "SELECT " RULE_COLUMNS " FROM rules ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        free(out);
        return db_fail(db, err, errlen, "read the rules");
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            mgr_rule *grown = realloc(out, 2 * cap * sizeof *out);
            if (!grown)
                break;
            out = grown;
            cap *= 2;
        }
        rule_from_row(db, st, &out[n++]);
    }
    sqlite3_finalize(st);
    *rules = out;
    *count = n;
    return 0;
}

static int rule_query_one(mgr_db *db, const char *where, sqlite3_stmt **st, char *err, size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT " RULE_COLUMNS " FROM rules WHERE %s", where);
    if (sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "read the rule");
    return 0;
}

int mgr_rule_get(mgr_db *db, int64_t id, mgr_rule *r, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (rule_query_one(db, "id = ?1", &st, err, errlen))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        rule_from_row(db, st, r);
    sqlite3_finalize(st);
    if (!found) {
        set_err(err, errlen, "The rule no longer exists; someone may have deleted it. "
                "Refresh the list.");
        return -1;
    }
    return 0;
}

int mgr_rule_find(mgr_db *db, const char *name, mgr_rule *r, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (rule_query_one(db, "name = ?1", &st, err, errlen))
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        rule_from_row(db, st, r);
    sqlite3_finalize(st);
    return found;
}

struct insert_ctx { mgr_db *db; sqlite3_stmt *st; int failed; };

/* Stores one pattern in the normal form: lower case, no trailing dot. */
static int insert_line(const char *s, size_t len, int lineno, void *ctx)
{
    struct insert_ctx *c = ctx;
    char pat[260];
    if (len && s[len - 1] == '.')
        len--;
    if (len >= sizeof pat)
        len = sizeof pat - 1;
    for (size_t i = 0; i < len; i++)
        pat[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    pat[len] = 0;
    sqlite3_bind_text(c->st, 3, pat, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(c->st);
    sqlite3_reset(c->st);
    if (rc != SQLITE_DONE) {
        c->failed = 1;
        return lineno;
    }
    return 0;
}

static int save_list(mgr_db *db, int64_t id, const char *list, const char *text)
{
    struct insert_ctx c = { db, NULL, 0 };
    if (sqlite3_prepare_v2(db->sql,
            "INSERT OR IGNORE INTO rule_domains (rule_id, list, pattern) VALUES (?1, ?2, ?3)",
            -1, &c.st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(c.st, 1, id);
    sqlite3_bind_text(c.st, 2, list, -1, SQLITE_STATIC);
    for_each_line(text, insert_line, &c);
    sqlite3_finalize(c.st);
    return c.failed ? -1 : 0;
}

static int write_rule_row(mgr_db *db, mgr_rule *r)
{
    sqlite3_stmt *st;
    const char *sql = r->id
        ? "UPDATE rules SET name = ?1, enabled = ?2, source_instance = ?3, pickup_dir = ?4, "
          "expired_cert = ?5, updated_ms = ?6 WHERE id = ?7"
        : "INSERT INTO rules (name, enabled, source_instance, pickup_dir, expired_cert, "
          "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->enabled ? 1 : 0);
    sqlite3_bind_int(st, 3, r->source_instance > 0 ? r->source_instance : 1);
    sqlite3_bind_text(st, 4, r->pickup_dir, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, r->expired_cert ? 1 : 0);
    sqlite3_bind_int64(st, 6, plat_wall_ms());
    if (r->id)
        sqlite3_bind_int64(st, 7, r->id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    if (!r->id)
        r->id = sqlite3_last_insert_rowid(db->sql);
    return 0;
}

int mgr_rule_save(mgr_db *db, mgr_rule *r, char *err, size_t errlen)
{
    int64_t old_id = r->id;
    if (sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "start saving the rule");
    if (write_rule_row(db, r) != 0) {
        int constraint = sqlite3_extended_errcode(db->sql) == SQLITE_CONSTRAINT_UNIQUE;
        if (constraint)
            set_err(err, errlen, "A rule named \"%s\" already exists. Choose another name.", r->name);
        else
            db_fail(db, err, errlen, "save the rule");
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
        r->id = old_id;
        return -1;
    }
    sqlite3_stmt *del;
    int ok = sqlite3_prepare_v2(db->sql, "DELETE FROM rule_domains WHERE rule_id = ?1",
                                -1, &del, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int64(del, 1, r->id);
        ok = sqlite3_step(del) == SQLITE_DONE;
        sqlite3_finalize(del);
    }
    ok = ok && save_list(db, r->id, "force-plain", r->force_plain) == 0
            && save_list(db, r->id, "never-redirect", r->never_redirect) == 0;
    if (!ok || sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(db, err, errlen, "save the rule's domain lists");
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
        r->id = old_id;
        return -1;
    }
    return 0;
}

int mgr_rule_delete(mgr_db *db, int64_t id, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, "DELETE FROM rules WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "delete the rule");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, errlen, "delete the rule");
    return 0;
}

/* ---- Settings ---- */

int mgr_log_level_get(mgr_db *db, char *level, size_t len, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, "SELECT value FROM settings WHERE key = 'log_level'",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "read the log level");
    snprintf(level, len, "info");
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_text(level, len, sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return 0;
}

int mgr_log_level_set(mgr_db *db, const char *level, char *err, size_t errlen)
{
    static const char *const levels[] = { "error", "warning", "info", "debug", "full-debug" };
    int known = 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        known |= strcmp(levels[i], level) == 0;
    if (!known) {
        set_err(err, errlen, "\"%s\" is not a log level; choose error, warning, info, debug "
                "or full-debug.", level);
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql,
            "INSERT INTO settings (key, value) VALUES ('log_level', ?1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "change the log level");
    sqlite3_bind_text(st, 1, level, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, errlen, "change the log level");
    return 0;
}

/* ---- Journal view ---- */

struct mgr_journal_view {
    mgr_db *db;
    sqlite3_stmt *read;
    char pattern[600];         /* LIKE pattern for the text filter, "" = none */
    char route[16], reason[64];
    size_t count;
    int dense;                 /* ids are max_id, max_id-1, ... without holes */
    int64_t max_id;
    int64_t *ids;              /* otherwise the ids, newest first */
};

#define JOURNAL_FILTER_SQL \
    " (?1 IS NULL OR recipient LIKE ?1 ESCAPE '\\' OR domain LIKE ?1 ESCAPE '\\'" \
    "  OR mx LIKE ?1 ESCAPE '\\' OR detail LIKE ?1 ESCAPE '\\')" \
    " AND (?2 IS NULL OR route = ?2) AND (?3 IS NULL OR reason = ?3)"

static void bind_filter(const mgr_journal_view *v, sqlite3_stmt *st)
{
    if (v->pattern[0])
        sqlite3_bind_text(st, 1, v->pattern, -1, SQLITE_STATIC);
    if (v->route[0])
        sqlite3_bind_text(st, 2, v->route, -1, SQLITE_STATIC);
    if (v->reason[0])
        sqlite3_bind_text(st, 3, v->reason, -1, SQLITE_STATIC);
}

static void make_like_pattern(const char *text, char *out, size_t len)
{
    size_t o = 0;
    if (!text[0]) {
        out[0] = 0;
        return;
    }
    out[o++] = '%';
    for (const char *p = text; *p && o + 3 < len; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '%';
    out[o] = 0;
}

/* Unfiltered: count and id bounds come from the rowid index in a few ms;
 * when the ids have no holes, position i is simply max_id - i. */
static int journal_try_dense(mgr_journal_view *v)
{
    sqlite3_stmt *st;
    if (v->pattern[0] || v->route[0] || v->reason[0])
        return 0;
    if (sqlite3_prepare_v2(v->db->sql, "SELECT count(*), min(id), max(id) FROM journal",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        int64_t lo = sqlite3_column_int64(st, 1), hi = sqlite3_column_int64(st, 2);
        if (n == 0 || hi - lo + 1 == n) {
            v->dense = 1;
            v->count = (size_t)n;
            v->max_id = hi;
        }
    }
    sqlite3_finalize(st);
    return v->dense;
}

static int journal_load_ids(mgr_journal_view *v)
{
    sqlite3_stmt *st;
    size_t cap = 4096;
    if (sqlite3_prepare_v2(v->db->sql,
            "SELECT id FROM journal WHERE" JOURNAL_FILTER_SQL " ORDER BY id DESC",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    bind_filter(v, st);
    v->ids = malloc(cap * sizeof *v->ids);
    while (v->ids && sqlite3_step(st) == SQLITE_ROW) {
        if (v->count == cap) {
            int64_t *grown = realloc(v->ids, 2 * cap * sizeof *v->ids);
            if (!grown)
                break;
            v->ids = grown;
            cap *= 2;
        }
        v->ids[v->count++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v->ids ? 0 : -1;
}

int mgr_journal_open(mgr_db *db, const mgr_journal_filter *f,
                     mgr_journal_view **out, char *err, size_t errlen)
{
    mgr_journal_view *v = calloc(1, sizeof *v);
    if (!v) {
        set_err(err, errlen, "Out of memory.");
        return -1;
    }
    v->db = db;
    make_like_pattern(f->text, v->pattern, sizeof v->pattern);
    snprintf(v->route, sizeof v->route, "%s", f->route);
    snprintf(v->reason, sizeof v->reason, "%s", f->reason);
    int dense = journal_try_dense(v);
    if (dense < 0 || (!dense && journal_load_ids(v) != 0)
        || sqlite3_prepare_v2(db->sql,
               "SELECT id, at_ms, recipient, domain, route, reason, mx, tls_version, detail "
               "FROM journal WHERE id BETWEEN ?4 AND ?5 AND" JOURNAL_FILTER_SQL
               " ORDER BY id DESC LIMIT ?6", -1, &v->read, NULL) != SQLITE_OK) {
        db_fail(db, err, errlen, "read the journal");
        mgr_journal_close(v);
        return -1;
    }
    *out = v;
    return 0;
}

void mgr_journal_close(mgr_journal_view *v)
{
    if (!v)
        return;
    sqlite3_finalize(v->read);
    free(v->ids);
    free(v);
}

size_t mgr_journal_count(const mgr_journal_view *v) { return v->count; }

static int64_t id_at(const mgr_journal_view *v, size_t pos)
{
    return v->dense ? v->max_id - (int64_t)pos : v->ids[pos];
}

long mgr_journal_read(mgr_journal_view *v, size_t first, size_t n,
                      mgr_journal_row *rows, char *err, size_t errlen)
{
    if (first >= v->count || n == 0)
        return 0;
    if (n > v->count - first)
        n = v->count - first;
    sqlite3_stmt *st = v->read;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    bind_filter(v, st);
    sqlite3_bind_int64(st, 4, id_at(v, first + n - 1));
    sqlite3_bind_int64(st, 5, id_at(v, first));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)n);
    long got = 0;
    int rc;
    while ((size_t)got < n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        mgr_journal_row *r = &rows[got++];
        r->id = sqlite3_column_int64(st, 0);
        r->at_ms = sqlite3_column_int64(st, 1);
        copy_text(r->recipient, sizeof r->recipient, sqlite3_column_text(st, 2));
        copy_text(r->domain, sizeof r->domain, sqlite3_column_text(st, 3));
        copy_text(r->route, sizeof r->route, sqlite3_column_text(st, 4));
        copy_text(r->reason, sizeof r->reason, sqlite3_column_text(st, 5));
        copy_text(r->mx, sizeof r->mx, sqlite3_column_text(st, 6));
        copy_text(r->tls_version, sizeof r->tls_version, sqlite3_column_text(st, 7));
        copy_text(r->detail, sizeof r->detail, sqlite3_column_text(st, 8));
    }
    sqlite3_reset(st);
    if (got == 0 && n > 0 && sqlite3_errcode(v->db->sql) != SQLITE_OK
        && sqlite3_errcode(v->db->sql) != SQLITE_DONE)
        return db_fail(v->db, err, errlen, "read the journal");
    return got;
}

/* ---- Caches ---- */

int mgr_expired_list(mgr_db *db, mgr_expired_row **rows, size_t *count, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 16;
    *rows = NULL;
    *count = 0;
    if (sqlite3_prepare_v2(db->sql,
            "SELECT domain, mx, coalesce(cert_not_after, 0), first_seen_ms, last_seen_ms, "
            "expires_ms FROM expired_cache ORDER BY domain", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "read the expired-certificate list");
    mgr_expired_row *out = malloc(cap * sizeof *out);
    while (out && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            mgr_expired_row *grown = realloc(out, 2 * cap * sizeof *out);
            if (!grown)
                break;
            out = grown;
            cap *= 2;
        }
        mgr_expired_row *r = &out[n++];
        copy_text(r->domain, sizeof r->domain, sqlite3_column_text(st, 0));
        copy_text(r->mx, sizeof r->mx, sqlite3_column_text(st, 1));
        r->cert_not_after = sqlite3_column_int64(st, 2);
        r->first_seen_ms = sqlite3_column_int64(st, 3);
        r->last_seen_ms = sqlite3_column_int64(st, 4);
        r->expires_ms = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    *rows = out;
    *count = n;
    return 0;
}

int mgr_probe_list(mgr_db *db, mgr_probe_row **rows, size_t *count, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 16;
    *rows = NULL;
    *count = 0;
    if (sqlite3_prepare_v2(db->sql,
            "SELECT domain, status, mx, tls_version, cipher, coalesce(cert_not_after, 0), "
            "error, probed_ms, expires_ms FROM probe_cache ORDER BY domain",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "read the probe cache");
    mgr_probe_row *out = malloc(cap * sizeof *out);
    while (out && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            mgr_probe_row *grown = realloc(out, 2 * cap * sizeof *out);
            if (!grown)
                break;
            out = grown;
            cap *= 2;
        }
        mgr_probe_row *r = &out[n++];
        copy_text(r->domain, sizeof r->domain, sqlite3_column_text(st, 0));
        copy_text(r->status, sizeof r->status, sqlite3_column_text(st, 1));
        copy_text(r->mx, sizeof r->mx, sqlite3_column_text(st, 2));
        copy_text(r->tls_version, sizeof r->tls_version, sqlite3_column_text(st, 3));
        copy_text(r->cipher, sizeof r->cipher, sqlite3_column_text(st, 4));
        r->cert_not_after = sqlite3_column_int64(st, 5);
        copy_text(r->error, sizeof r->error, sqlite3_column_text(st, 6));
        r->probed_ms = sqlite3_column_int64(st, 7);
        r->expires_ms = sqlite3_column_int64(st, 8);
    }
    sqlite3_finalize(st);
    *rows = out;
    *count = n;
    return 0;
}

int mgr_expired_clear(mgr_db *db, char *err, size_t errlen)
{
    if (sqlite3_exec(db->sql, "DELETE FROM expired_cache", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "clear the expired-certificate list");
    return 0;
}

int mgr_probe_clear(mgr_db *db, char *err, size_t errlen)
{
    if (sqlite3_exec(db->sql, "DELETE FROM probe_cache", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen, "clear the probe cache");
    return 0;
}
