/* store: open and create, schema migration, the statement cache and
 * transactions. Settings are in store_setting.c, rules and their domain
 * lists in store_rule.c. */
#include "store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

extern const char tr_schema_sql[];

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
    [Q_RULE_RENAME] = "UPDATE rules SET name = ?2, updated_ms = ?3 WHERE name = ?1",
    [Q_RULE_DELETE] = "DELETE FROM rules WHERE name = ?1",
    [Q_RULE_ID] = "SELECT id FROM rules WHERE name = ?1",
    [Q_DOMAIN_ADD] = "INSERT OR IGNORE INTO rule_domains (rule_id, list, pattern) VALUES (?1, ?2, ?3)",
    [Q_DOMAIN_REMOVE] = "DELETE FROM rule_domains WHERE rule_id = ?1 AND list = ?2 AND pattern = ?3",
    [Q_DOMAIN_LIST] = "SELECT pattern FROM rule_domains WHERE rule_id = ?1 AND list = ?2 ORDER BY pattern",
};


store_status store_fail(store *s, store_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

store_status store_fail_sql(store *s, const char *what)
{
    int code = sqlite3_errcode(s->db);
    store_status st = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED
                          ? STORE_ERR_BUSY
                          : (code & 0xff) == SQLITE_READONLY ? STORE_ERR_READ_ONLY : STORE_ERR_IO;
    return store_fail(s, st, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* A prepared statement from the cache, ready to bind; give it back with
 * stmt_done. Prepared once per handle and kept for its lifetime. */
sqlite3_stmt *store_stmt(store *s, enum stmt_id id)
{
    if (!s->stmts[id]
        && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                              &s->stmts[id], NULL) != SQLITE_OK) {
        store_fail_sql(s, "cannot prepare a query");
        s->stmts[id] = NULL;
    }
    return s->stmts[id];
}

void store_stmt_done(sqlite3_stmt *st)
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

store_status store_begin_write(store *s)
{
    int rc = exec_retry(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        return STORE_OK;
    if (is_busy(rc))
        return store_fail(s, STORE_ERR_BUSY, "database is busy: another program kept it locked for %d s",
                    STORE_BUSY_MS / 1000);
    return store_fail_sql(s, "cannot start a write");
}

store_status store_commit(store *s)
{
    if (exec_retry(s->db, "COMMIT") == SQLITE_OK)
        return STORE_OK;
    store_status st = store_fail_sql(s, "cannot commit");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Keep the error already recorded; just undo the transaction. */
store_status store_rollback(store *s, store_status st)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Step a statement that returns no rows. */
store_status store_step_done(store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    store_status r = rc == SQLITE_DONE ? STORE_OK : store_fail_sql(s, what);
    store_stmt_done(st);
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
    store_status st = store_begin_write(s);
    if (st != STORE_OK)
        return st;
    if (read_user_version(s->db, &current) != SQLITE_OK)
        return store_rollback(s, store_fail_sql(s, "cannot read the schema version"));
    if (current >= steps[i].version)
        return store_commit(s);
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", steps[i].version);
    if (run_sql_range(s->db, steps[i].sql, steps[i].len) != SQLITE_OK
        || sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        char what[64];
        snprintf(what, sizeof what, "schema step %d failed", steps[i].version);
        return store_rollback(s, store_fail_sql(s, what));
    }
    return store_commit(s);
}

static store_status migrate(store *s, int target)
{
    int current = 0;
    int latest = store_schema_latest();
    if (latest == 0)
        return store_fail(s, STORE_ERR_IO, "the built-in schema is malformed");
    if (read_user_version(s->db, &current) != SQLITE_OK)
        return store_fail_sql(s, "cannot read the schema version");
    if (current > latest)
        return store_fail(s, STORE_ERR_TOO_NEW,
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
        return store_fail(s, STORE_ERR_NOT_DB, "%s is not a SQLite database", path);
    if ((rc & 0xff) == SQLITE_CORRUPT)
        return store_fail(s, STORE_ERR_NOT_DB, "%s is a damaged SQLite database", path);
    if (is_busy(rc))
        return store_fail(s, STORE_ERR_BUSY, "database %s is locked by another program", path);
    return store_fail(s, STORE_ERR_IO, "cannot read database %s: %s", path, sqlite3_errmsg(s->db));
}

/* Switch to WAL (persistent in the file; a no-op when already on). The
 * switch needs a moment of exclusive access, so it is retried while another
 * connection holds the lock. Returns the last SQLite code; *wal says if the
 * database is now in WAL mode. */
static int enable_wal(sqlite3 *db, int *wal)
{
    uint64_t deadline = plat_now_ms() + STORE_BUSY_MS;
    int rc;
    *wal = 0;
    for (;;) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            *wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        if (!is_busy(rc) || plat_now_ms() >= deadline)
            return rc;
        plat_sleep_ms(10);
    }
}

static store_status configure(store *s, const char *path)
{
    int wal = 0;
    /* SQLite falls back to a read-only open when the file refuses writing;
     * a router that cannot journal or save rules must say so at once. */
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return store_fail(s, STORE_ERR_READ_ONLY,
                    "database %s is read-only (cannot open it for writing)", path);
    int rc = enable_wal(s->db, &wal);
    if ((rc & 0xff) == SQLITE_READONLY)
        return store_fail(s, STORE_ERR_READ_ONLY,
                    "database %s is read-only (cannot open it for writing)", path);
    if (!wal)
        return store_fail(s, is_busy(rc) ? STORE_ERR_BUSY : STORE_ERR_IO,
                    "cannot switch database %s to WAL mode: %s", path, sqlite3_errmsg(s->db));
    /* synchronous=NORMAL is the WAL setting SQLite recommends: a crash of
     * the program loses nothing, a power cut at worst the last commits,
     * never consistency. */
    if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK)
        return store_fail_sql(s, "cannot configure the database");
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
        st = store_fail(s, STORE_ERR_INVALID, "no database path given");
    } else if (!parent_exists(path)) {
        st = store_fail(s, STORE_ERR_NO_FOLDER, "folder of database %s does not exist", path);
    } else if (plat_is_dir(path)) {
        st = store_fail(s, STORE_ERR_IO, "database path %s is a folder", path);
    } else if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
               != SQLITE_OK) {
        st = store_fail(s, STORE_ERR_IO, "cannot open database %s: %s", path,
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
        return store_fail_sql(s, "cannot read the schema version");
    return STORE_OK;
}

store_status store_size_bytes(store *s, int64_t *bytes)
{
    sqlite3_stmt *st = NULL;
    store_status r = STORE_OK;
    if (sqlite3_prepare_v2(s->db,
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            -1, &st, NULL) != SQLITE_OK)
        return store_fail_sql(s, "cannot read the database size");
    if (sqlite3_step(st) == SQLITE_ROW)
        *bytes = sqlite3_column_int64(st, 0);
    else
        r = store_fail_sql(s, "cannot read the database size");
    sqlite3_finalize(st);
    return r;
}

store_status store_generation(store *s, int64_t *generation)
{
    sqlite3_stmt *st = store_stmt(s, Q_GENERATION);
    store_status r = STORE_OK;
    if (!st)
        return STORE_ERR_IO;
    if (sqlite3_step(st) == SQLITE_ROW)
        *generation = sqlite3_column_int64(st, 0);
    else
        r = store_fail_sql(s, "cannot read the configuration generation");
    store_stmt_done(st);
    return r;
}
