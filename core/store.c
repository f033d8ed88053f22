/* store: open, migrate, settings, rules and domain lists on SQLite. */
#include "store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"

extern const char tr_schema_sql[];

/* ---- statement cache ------------------------------------------------ */

enum stmt_id {
    Q_GENERATION,
    Q_SETTING_GET,
    Q_SETTING_SET,
    Q_RULE_ADD,
    Q_RULE_GET,
    Q_RULE_FOR_SOURCE,
    Q_RULE_LIST,
    Q_RULE_UPDATE,
    Q_RULE_DELETE,
    Q_RULE_ID,
    Q_DOMAIN_ADD,
    Q_DOMAIN_REMOVE,
    Q_DOMAIN_LIST,
    Q_COUNT
};

#define RULE_COLUMNS "id, name, enabled, source_instance, pickup_dir, expired_cert, created_ms, updated_ms"

static const char *const stmt_sql[Q_COUNT] = {
    [Q_GENERATION] = "SELECT generation FROM config_generation WHERE id = 1",
    [Q_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [Q_SETTING_SET] = "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [Q_RULE_ADD] = "INSERT INTO rules (name, pickup_dir, source_instance, created_ms, updated_ms) "
                   "VALUES (?1, ?2, ?3, ?4, ?4)",
    [Q_RULE_GET] = "SELECT " RULE_COLUMNS " FROM rules WHERE name = ?1",
    [Q_RULE_FOR_SOURCE] = "SELECT " RULE_COLUMNS " FROM rules "
                          "WHERE source_instance = ?1 AND enabled = 1 ORDER BY id LIMIT 1",
    [Q_RULE_LIST] = "SELECT " RULE_COLUMNS " FROM rules ORDER BY id",
    [Q_RULE_UPDATE] = "UPDATE rules SET enabled = coalesce(?2, enabled), "
                      "expired_cert = coalesce(?3, expired_cert), "
                      "source_instance = coalesce(?4, source_instance), "
                      "pickup_dir = coalesce(?5, pickup_dir), updated_ms = ?6 WHERE name = ?1",
    [Q_RULE_DELETE] = "DELETE FROM rules WHERE name = ?1",
    [Q_RULE_ID] = "SELECT id FROM rules WHERE name = ?1",
    [Q_DOMAIN_ADD] = "INSERT OR IGNORE INTO rule_domains (rule_id, list, pattern) VALUES (?1, ?2, ?3)",
    [Q_DOMAIN_REMOVE] = "DELETE FROM rule_domains WHERE rule_id = ?1 AND list = ?2 AND pattern = ?3",
    [Q_DOMAIN_LIST] = "SELECT pattern FROM rule_domains WHERE rule_id = ?1 AND list = ?2 ORDER BY pattern",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmts[Q_COUNT];
    char err[PLAT_PATH_MAX + 256];   /* room for a path and a sentence */
};

static store_status fail(store *s, store_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

static store_status fail_sql(store *s, const char *what)
{
    int code = sqlite3_errcode(s->db);
    store_status st = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED
                          ? STORE_ERR_BUSY
                          : (code & 0xff) == SQLITE_READONLY ? STORE_ERR_READ_ONLY : STORE_ERR_IO;
    return fail(s, st, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* A prepared statement from the cache, ready to bind; give it back with
 * stmt_done. Prepared once per handle and kept for its lifetime. */
static sqlite3_stmt *stmt_get(store *s, enum stmt_id id)
{
    if (!s->stmts[id]
        && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                              &s->stmts[id], NULL) != SQLITE_OK) {
        fail_sql(s, "cannot prepare a query");
        s->stmts[id] = NULL;
    }
    return s->stmts[id];
}

static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* ---- transactions ----------------------------------------------------- */

static int is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Run one statement of plain SQL, retrying while another connection holds
 * the lock: the busy handler covers most waits, the loop covers the cases
 * where SQLite reports SQLITE_BUSY without calling it. */
static int exec_retry(sqlite3 *db, const char *sql)
{
    uint64_t deadline = plat_now_ms() + STORE_BUSY_MS;
    int rc;
    while (is_busy(rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) && plat_now_ms() < deadline)
        plat_sleep_ms(10);
    return rc;
}

static store_status begin_write(store *s)
{
    int rc = exec_retry(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        return STORE_OK;
    if (is_busy(rc))
        return fail(s, STORE_ERR_BUSY, "database is busy: another program kept it locked for %d s",
                    STORE_BUSY_MS / 1000);
    return fail_sql(s, "cannot start a write");
}

static store_status commit(store *s)
{
    if (exec_retry(s->db, "COMMIT") == SQLITE_OK)
        return STORE_OK;
    store_status st = fail_sql(s, "cannot commit");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Keep the error already recorded; just undo the transaction. */
static store_status rollback(store *s, store_status st)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Step a statement that returns no rows. */
static store_status step_done(store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    store_status r = rc == SQLITE_DONE ? STORE_OK : fail_sql(s, what);
    stmt_done(st);
    return r;
}

/* ---- schema steps ----------------------------------------------------- */

enum { MAX_STEPS = 64 };
typedef struct {
    int version;
    const char *sql;
    size_t len;
} schema_step;

static schema_step steps[MAX_STEPS];
static int step_count;
static plat_once steps_once = PLAT_ONCE_INIT;

static const char version_marker[] = "-- @version ";

/* Split the built-in schema at its "-- @version N" lines. The versions must
 * run 1, 2, 3...; anything else leaves step_count at 0 (a build error that
 * store_open reports). */
static void parse_steps(void)
{
    const char *p = tr_schema_sql;
    int n = 0;
    while ((p = strstr(p, version_marker)) != NULL) {
        if (p != tr_schema_sql && p[-1] != '\n') {
            p++;
            continue;
        }
        int v = atoi(p + sizeof version_marker - 1);
        const char *body = strchr(p, '\n');
        if (n == MAX_STEPS || v != n + 1 || !body)
            return;
        if (n > 0)
            steps[n - 1].len = (size_t)(p - steps[n - 1].sql);
        steps[n].version = v;
        steps[n].sql = body + 1;
        steps[n].len = strlen(body + 1);
        n++;
        p = body;
    }
    step_count = n;
}

int store_schema_latest(void)
{
    plat_once_run(&steps_once, parse_steps);
    return step_count > 0 ? steps[step_count - 1].version : 0;
}

/* Run every statement of one step (comments and blank space skipped). */
static int run_sql_range(sqlite3 *db, const char *sql, size_t len)
{
    const char *end = sql + len;
    while (sql < end) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, sql, (int)(end - sql), &st, &tail);
        if (rc != SQLITE_OK)
            return rc;
        if (!st)
            break;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return rc;
        sql = tail;
    }
    return SQLITE_OK;
}

static int read_user_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Apply step i in its own transaction, unless another process got there
 * first (the version is read again under the write lock). */
static store_status apply_step(store *s, int i)
{
    char pragma[48];
    int current = 0;
    store_status st = begin_write(s);
    if (st != STORE_OK)
        return st;
    if (read_user_version(s->db, &current) != SQLITE_OK)
        return rollback(s, fail_sql(s, "cannot read the schema version"));
    if (current >= steps[i].version)
        return commit(s);
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", steps[i].version);
    if (run_sql_range(s->db, steps[i].sql, steps[i].len) != SQLITE_OK
        || sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        char what[64];
        snprintf(what, sizeof what, "schema step %d failed", steps[i].version);
        return rollback(s, fail_sql(s, what));
    }
    return commit(s);
}

static store_status migrate(store *s, int target)
{
    int current = 0;
    int latest = store_schema_latest();
    if (latest == 0)
        return fail(s, STORE_ERR_IO, "the built-in schema is malformed");
    if (read_user_version(s->db, &current) != SQLITE_OK)
        return fail_sql(s, "cannot read the schema version");
    if (current > latest)
        return fail(s, STORE_ERR_TOO_NEW,
                    "database schema version %d is newer than this program knows (%d); "
                    "use a newer TLS Router", current, latest);
    for (int i = 0; i < step_count && steps[i].version <= target; i++) {
        if (steps[i].version <= current)
            continue;
        store_status st = apply_step(s, i);
        if (st != STORE_OK)
            return st;
    }
    return STORE_OK;
}

/* ---- open and close --------------------------------------------------- */

/* Does the folder that holds path exist? A bare file name lives in the
 * current folder, which always does. */
static int parent_exists(const char *path)
{
    char dir[PLAT_PATH_MAX];
    size_t cut = 0;
    for (size_t i = 0; path[i]; i++)
        if (path[i] == '/' || path[i] == '\\')
            cut = i;
    if (cut == 0 || cut >= sizeof dir)
        return 1;
    memcpy(dir, path, cut);
    dir[cut] = '\0';
    if (cut == 2 && dir[1] == ':')   /* "C:\x.db": the drive root */
        return 1;
    return plat_is_dir(dir);
}

/* Touch the file: the first read is where SQLite notices a file that is
 * not a database. */
static store_status check_readable(store *s, const char *path)
{
    int rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return STORE_OK;
    if ((rc & 0xff) == SQLITE_NOTADB)
        return fail(s, STORE_ERR_NOT_DB, "%s is not a SQLite database", path);
    if ((rc & 0xff) == SQLITE_CORRUPT)
        return fail(s, STORE_ERR_NOT_DB, "%s is a damaged SQLite database", path);
    if (is_busy(rc))
        return fail(s, STORE_ERR_BUSY, "database %s is locked by another program", path);
    return fail(s, STORE_ERR_IO, "cannot read database %s: %s", path, sqlite3_errmsg(s->db));
}

static store_status configure(store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    int wal = 0;
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return fail(s, STORE_ERR_READ_ONLY,
                    "database %s is read-only (cannot open it for writing)", path);
    uint64_t deadline = plat_now_ms() + STORE_BUSY_MS;
    int rc;
    do {
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
            wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        st = NULL;
    } while (is_busy(rc) && plat_now_ms() < deadline && (plat_sleep_ms(10), 1));
    if ((rc & 0xff) == SQLITE_READONLY)
        return fail(s, STORE_ERR_READ_ONLY,
                    "database %s is read-only (cannot open it for writing)", path);
    if (!wal)
        return fail(s, is_busy(rc) ? STORE_ERR_BUSY : STORE_ERR_IO,
                    "cannot switch database %s to WAL mode: %s", path, sqlite3_errmsg(s->db));
    if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail_sql(s, "cannot configure the database");
    return STORE_OK;
}

static store_status open_at(const char *path, int target, store **out, char *err, size_t errlen)
{
    store *s = calloc(1, sizeof *s);
    store_status st;
    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERR_NOMEM;
    }
    if (!path || !*path) {
        st = fail(s, STORE_ERR_INVALID, "no database path given");
    } else if (!parent_exists(path)) {
        st = fail(s, STORE_ERR_NO_FOLDER, "folder of database %s does not exist", path);
    } else if (plat_is_dir(path)) {
        st = fail(s, STORE_ERR_IO, "database path %s is a folder", path);
    } else if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
               != SQLITE_OK) {
        st = fail(s, STORE_ERR_IO, "cannot open database %s: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
    } else {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
        st = check_readable(s, path);
        if (st == STORE_OK)
            st = configure(s, path);
        if (st == STORE_OK)
            st = migrate(s, target);
    }
    if (st != STORE_OK) {
        snprintf(err, errlen, "%s", s->err);
        store_close(s);
        return st;
    }
    *out = s;
    return STORE_OK;
}

store_status store_open(const char *path, store **out, char *err, size_t errlen)
{
    return open_at(path, store_schema_latest(), out, err, errlen);
}

store_status store_create_at_version(const char *path, int version, char *err, size_t errlen)
{
    store *s = NULL;
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        snprintf(err, errlen, "database %s exists already", path);
        return STORE_ERR_EXISTS;
    }
    store_status st = open_at(path, version, &s, err, errlen);
    store_close(s);
    return st;
}

void store_close(store *s)
{
    if (!s)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    free(s);
}

sqlite3 *store_db(store *s) { return s->db; }
const char *store_error(const store *s) { return s->err; }

store_status store_schema_version(store *s, int *version)
{
    if (read_user_version(s->db, version) != SQLITE_OK)
        return fail_sql(s, "cannot read the schema version");
    return STORE_OK;
}

store_status store_generation(store *s, int64_t *generation)
{
    sqlite3_stmt *st = stmt_get(s, Q_GENERATION);
    store_status r = STORE_OK;
    if (!st)
        return STORE_ERR_IO;
    if (sqlite3_step(st) == SQLITE_ROW)
        *generation = sqlite3_column_int64(st, 0);
    else
        r = fail_sql(s, "cannot read the configuration generation");
    stmt_done(st);
    return r;
}

/* ---- settings --------------------------------------------------------- */

static const char *const log_levels[] = { "error", "warning", "info", "debug", "full-debug", NULL };
static const char *const tls_floors[] = { "auto", "tls1.0", "tls1.1", "tls1.2", "tls1.3", NULL };

typedef enum { KIND_INT, KIND_CHOICE, KIND_DNS, KIND_HOST } setting_kind;

typedef struct {
    const char *key;
    setting_kind kind;
    int64_t min, max;                  /* KIND_INT */
    const char *const *choices;        /* KIND_CHOICE */
} setting_def;

enum { DAY_S = 86400 };

static const setting_def setting_defs[] = {
    { "log_level", KIND_CHOICE, 0, 0, log_levels },
    { "dns_servers", KIND_DNS, 0, 0, NULL },
    { "probe_port", KIND_INT, 1, 65535, NULL },
    { "connect_timeout_ms", KIND_INT, 100, 600000, NULL },
    { "reply_timeout_ms", KIND_INT, 100, 600000, NULL },
    { "total_timeout_ms", KIND_INT, 100, 3600000, NULL },
    { "ehlo_name", KIND_HOST, 0, 0, NULL },
    { "tls_floor", KIND_CHOICE, 0, 0, tls_floors },
    { "verify_chain", KIND_INT, 0, 1, NULL },
    { "verify_name", KIND_INT, 0, 1, NULL },
    { "ttl_starttls_s", KIND_INT, 0, 365 * DAY_S, NULL },
    { "ttl_no_starttls_s", KIND_INT, 0, 365 * DAY_S, NULL },
    { "ttl_failure_s", KIND_INT, 0, 365 * DAY_S, NULL },
    { "ttl_expired_s", KIND_INT, 0, 365 * DAY_S, NULL },
    { "journal_max_age_days", KIND_INT, 1, 3650, NULL },
    { "journal_max_rows", KIND_INT, 1000, 1000000000, NULL },
    { "log_max_rows", KIND_INT, 1000, 1000000000, NULL },
};

int store_log_level_parse(const char *name)
{
    for (int i = 0; name && log_levels[i]; i++)
        if (strcmp(name, log_levels[i]) == 0)
            return i;
    return -1;
}

const char *store_log_level_name(int level)
{
    return level >= 0 && level < 5 ? log_levels[level] : NULL;
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

static const setting_def *setting_find(const char *key)
{
    for (size_t i = 0; i < sizeof setting_defs / sizeof setting_defs[0]; i++)
        if (strcmp(setting_defs[i].key, key) == 0)
            return &setting_defs[i];
    return NULL;
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
    else if (d->kind == KIND_INT && parse_int64(value, &n) != 0)
        *why = "not a whole number";
    else if (d->kind == KIND_INT && (n < d->min || n > d->max))
        *why = "number out of range";
    else if (d->kind == KIND_DNS && !dns_list_ok(value))
        *why = "expected HOST[:PORT] separated by commas";
    else if (d->kind == KIND_HOST && *value && domain_normalize(value, norm, why) != 0)
        ; /* why set by domain_normalize */
    else if (d->kind == KIND_CHOICE) {
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
    sqlite3_stmt *st = stmt_get(s, Q_SETTING_GET);
    store_status r = STORE_OK;
    if (!st)
        return STORE_ERR_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if ((size_t)snprintf(buf, len, "%s", v ? v : "") >= len)
            r = fail(s, STORE_ERR_INVALID, "setting %s is too long", key);
    } else if (rc == SQLITE_DONE) {
        r = fail(s, STORE_ERR_NOT_FOUND, "no setting %s", key);
    } else {
        r = fail_sql(s, "cannot read a setting");
    }
    stmt_done(st);
    return r;
}

store_status store_setting_get_int(store *s, const char *key, int64_t *value)
{
    char buf[32];
    store_status r = store_setting_get(s, key, buf, sizeof buf);
    if (r == STORE_OK && parse_int64(buf, value) != 0)
        r = fail(s, STORE_ERR_INVALID, "setting %s is not a number: %s", key, buf);
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
        return fail(s, STORE_ERR_INVALID, "setting %s: %s", key ? key : "(none)", why);
    sqlite3_stmt *st = stmt_get(s, Q_SETTING_SET);
    if (!st)
        return STORE_ERR_IO;
    store_status r = begin_write(s);
    if (r != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    r = step_done(s, st, "cannot save a setting");
    return r == STORE_OK ? commit(s) : rollback(s, r);
}

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
        return fail(s, STORE_ERR_INVALID, "rule name is empty");
    if (len > STORE_NAME_MAX)
        return fail(s, STORE_ERR_INVALID, "rule name longer than %d characters", STORE_NAME_MAX);
    if (has_control(name))
        return fail(s, STORE_ERR_INVALID, "rule name contains a control character");
    if (name[0] == ' ' || name[len - 1] == ' ')
        return fail(s, STORE_ERR_INVALID, "rule name starts or ends with a space");
    return STORE_OK;
}

static store_status check_pickup(store *s, const char *dir)
{
    if (!dir || !*dir)
        return fail(s, STORE_ERR_INVALID, "pickup folder is empty");
    if (strlen(dir) >= PLAT_PATH_MAX)
        return fail(s, STORE_ERR_INVALID, "pickup folder path is too long");
    if (has_control(dir))
        return fail(s, STORE_ERR_INVALID, "pickup folder contains a control character");
    return STORE_OK;
}

static store_status check_source(store *s, int source)
{
    if (source < 1 || source > STORE_SOURCE_MAX)
        return fail(s, STORE_ERR_INVALID, "source instance must be 1 to %d", STORE_SOURCE_MAX);
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
    sqlite3_stmt *st = stmt_get(s, Q_RULE_ADD);
    if (!st)
        return STORE_ERR_IO;
    if ((r = begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pickup_dir, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, source_instance);
    sqlite3_bind_int64(st, 4, plat_wall_ms());
    int rc = sqlite3_step(st);
    stmt_done(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return rollback(s, fail(s, STORE_ERR_EXISTS, "rule '%s' exists already", name));
    if (rc != SQLITE_DONE)
        return rollback(s, fail_sql(s, "cannot add the rule"));
    if (id)
        *id = sqlite3_last_insert_rowid(s->db);
    return commit(s);
}

/* Run a one-row rule query; NOT_FOUND names what was looked for. */
static store_status fetch_rule(store *s, sqlite3_stmt *st, store_rule *rule, const char *what)
{
    int rc = sqlite3_step(st);
    store_status r = STORE_OK;
    if (rc == SQLITE_ROW)
        read_rule(st, rule);
    else if (rc == SQLITE_DONE)
        r = fail(s, STORE_ERR_NOT_FOUND, "%s", what);
    else
        r = fail_sql(s, "cannot read rules");
    stmt_done(st);
    return r;
}

store_status store_rule_get(store *s, const char *name, store_rule *rule)
{
    char what[STORE_NAME_MAX + 32];
    sqlite3_stmt *st = stmt_get(s, Q_RULE_GET);
    if (!st)
        return STORE_ERR_IO;
    snprintf(what, sizeof what, "no rule named '%s'", name);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return fetch_rule(s, st, rule, what);
}

store_status store_rule_for_source(store *s, int source_instance, store_rule *rule)
{
    char what[64];
    sqlite3_stmt *st = stmt_get(s, Q_RULE_FOR_SOURCE);
    if (!st)
        return STORE_ERR_IO;
    snprintf(what, sizeof what, "no enabled rule for virtual server %d", source_instance);
    sqlite3_bind_int(st, 1, source_instance);
    return fetch_rule(s, st, rule, what);
}

store_status store_rule_list(store *s, store_rule **rules, size_t *count)
{
    sqlite3_stmt *st = stmt_get(s, Q_RULE_LIST);
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
                stmt_done(st);
                return fail(s, STORE_ERR_NOMEM, "out of memory");
            }
            list = grown;
            cap = ncap;
        }
        read_rule(st, &list[n++]);
    }
    stmt_done(st);
    if (rc != SQLITE_DONE) {
        free(list);
        return fail_sql(s, "cannot read rules");
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
        return fail(s, STORE_ERR_INVALID, "enabled must be on or off");
    if (c->expired_cert != STORE_UNCHANGED && c->expired_cert != 0 && c->expired_cert != 1)
        return fail(s, STORE_ERR_INVALID, "expired-cert must be on or off");
    if (c->source_instance != STORE_UNCHANGED && check_source(s, c->source_instance) != STORE_OK)
        return STORE_ERR_INVALID;
    return c->pickup_dir ? check_pickup(s, c->pickup_dir) : STORE_OK;
}

store_status store_rule_update(store *s, const char *name, const store_rule_change *change)
{
    store_status r = check_change(s, change);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *st = stmt_get(s, Q_RULE_UPDATE);
    if (!st)
        return STORE_ERR_IO;
    if ((r = begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_optional_int(st, 2, change->enabled);
    bind_optional_int(st, 3, change->expired_cert);
    bind_optional_int(st, 4, change->source_instance);
    if (change->pickup_dir)
        sqlite3_bind_text(st, 5, change->pickup_dir, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, plat_wall_ms());
    r = step_done(s, st, "cannot change the rule");
    if (r != STORE_OK)
        return rollback(s, r);
    if (sqlite3_changes(s->db) == 0)
        return rollback(s, fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", name));
    return commit(s);
}

store_status store_rule_delete(store *s, const char *name)
{
    sqlite3_stmt *st = stmt_get(s, Q_RULE_DELETE);
    store_status r;
    if (!st)
        return STORE_ERR_IO;
    if ((r = begin_write(s)) != STORE_OK)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    r = step_done(s, st, "cannot delete the rule");
    if (r != STORE_OK)
        return rollback(s, r);
    if (sqlite3_changes(s->db) == 0)
        return rollback(s, fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", name));
    return commit(s);
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
    sqlite3_stmt *st = stmt_get(s, Q_RULE_ID);
    store_status r = STORE_OK;
    if (!st)
        return STORE_ERR_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        r = fail(s, STORE_ERR_NOT_FOUND, "no rule named '%s'", name);
    else
        r = fail_sql(s, "cannot read rules");
    stmt_done(st);
    return r;
}

/* Normalise every pattern first, so a bad one changes nothing. */
static store_status normalize_all(store *s, const char *const *patterns, size_t count,
                                  char (**norm)[DOMAIN_BUF])
{
    *norm = NULL;
    if (count == 0)
        return fail(s, STORE_ERR_INVALID, "no domain pattern given");
    char (*out)[DOMAIN_BUF] = malloc(count * sizeof *out);
    if (!out)
        return fail(s, STORE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const char *why = NULL;
        if (domain_pattern_normalize(patterns[i], out[i], &why) != 0) {
            free(out);
            return fail(s, STORE_ERR_INVALID, "bad domain pattern '%s': %s",
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
    store_status r = normalize_all(s, patterns, count, &norm);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *st = stmt_get(s, remove ? Q_DOMAIN_REMOVE : Q_DOMAIN_ADD);
    if (!st || (r = begin_write(s)) != STORE_OK) {
        free(norm);
        return st ? r : STORE_ERR_IO;
    }
    r = rule_id(s, rule, &id);
    for (size_t i = 0; r == STORE_OK && i < count; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, store_list_name(list), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, norm[i], -1, SQLITE_STATIC);
        r = step_done(s, st, remove ? "cannot remove a pattern" : "cannot add a pattern");
        if (r == STORE_OK && remove && sqlite3_changes(s->db) == 0)
            r = fail(s, STORE_ERR_NOT_FOUND, "'%s' is not on the %s list of rule '%s'",
                     norm[i], store_list_name(list), rule);
    }
    free(norm);
    return r == STORE_OK ? commit(s) : rollback(s, r);
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
    sqlite3_stmt *st = r == STORE_OK ? stmt_get(s, Q_DOMAIN_LIST) : NULL;
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
    stmt_done(st);
    if (rc != SQLITE_DONE) {
        store_strings_free(out, n);
        return rc == SQLITE_ROW ? fail(s, STORE_ERR_NOMEM, "out of memory")
                                : fail_sql(s, "cannot read a domain list");
    }
    *patterns = out;
    *count = n;
    return STORE_OK;
}
