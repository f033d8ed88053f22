/* store: the SQLite database (db/schema.sql) behind rules, domain lists and
 * settings.
 *
 * Threads and processes: a store handle is one SQLite connection and is used
 * by one thread at a time; open one handle per thread. Any number of handles
 * in any number of processes may use one database file at once: it runs in
 * WAL mode (readers never wait for the writer), every write transaction
 * starts with BEGIN IMMEDIATE, and a busy database is retried for up to
 * STORE_BUSY_MS before STORE_ERR_BUSY is reported.
 *
 * Other modules own the SQL of their own tables (pcache: probe_cache,
 * expcache: expired_cache, stscache: sts_policy, journal, log) and reach the
 * connection through store_db(); the CLI and the manager call them, never
 * the tables.
 *
 * Every function returns STORE_OK (0) or a store_status; on failure
 * store_error() holds one sentence for the user. */
#ifndef TR_STORE_H
#define TR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "plat.h"
#include "settings.h"

/* The SQLite connection type, without pulling sqlite3.h into every user. */
typedef struct sqlite3 sqlite3;

#define STORE_BUSY_MS 5000
#define STORE_NAME_MAX 64      /* rule names: 1-64 printable characters */
#define STORE_SOURCE_MAX 65535 /* highest IIS SMTP virtual server instance */

typedef enum {
    STORE_OK = 0,
    STORE_ERR_IO,          /* SQLite or file system failure */
    STORE_ERR_NO_FOLDER,   /* the database's folder does not exist */
    STORE_ERR_NOT_DB,      /* the file is not a SQLite database */
    STORE_ERR_READ_ONLY,   /* the file cannot be opened for writing */
    STORE_ERR_TOO_NEW,     /* schema newer than this program */
    STORE_ERR_BUSY,        /* still locked by another writer after STORE_BUSY_MS */
    STORE_ERR_NOT_FOUND,   /* no such rule / setting / pattern */
    STORE_ERR_EXISTS,      /* a rule of that name exists already */
    STORE_ERR_INVALID,     /* a value was refused; store_error() says why */
    STORE_ERR_NOMEM
} store_status;

typedef struct store store;

/* Open or create the database at path and bring its schema up to date.
 * The folder must exist. On failure *out is NULL and err holds the reason. */
store_status store_open(const char *path, store **out, char *err, size_t errlen);
void store_close(store *s);
sqlite3 *store_db(store *s);
const char *store_error(const store *s);

/* The newest schema version this program knows (the last "-- @version N"). */
int store_schema_latest(void);
/* Create a database holding only schema steps 1..version (upgrade tests and
 * tools). The file must not exist yet. */
store_status store_create_at_version(const char *path, int version, char *err, size_t errlen);
/* PRAGMA user_version of the open database. */
store_status store_schema_version(store *s, int *version);

/* The database's size in bytes (pages in use times page size; the WAL
 * file not counted), for the manager's status page. */
store_status store_size_bytes(store *s, int64_t *bytes);

/* Counter bumped by every change to rules, domain lists and settings: a
 * running engine compares it to notice edits made by other processes. */
store_status store_generation(store *s, int64_t *generation);

/* Settings: the keys, kinds, ranges and defaults of settings.h, seeded by
 * the schema. */
store_status store_setting_get(store *s, const char *key, char *buf, size_t len);
store_status store_setting_get_int(store *s, const char *key, int64_t *value);
/* The value, or fallback when the key is missing or not a number. */
int64_t store_setting_int(store *s, const char *key, int64_t fallback);
/* A whole-number setting named as in settings.h, or its default there:
 * STORE_SETTING_INT(st, probe_port). */
#define STORE_SETTING_INT(st, key) store_setting_int((st), #key, SETTING_DEFAULT_##key)
/* Refuses unknown keys and values out of their key's range. */
store_status store_setting_set(store *s, const char *key, const char *value);
/* The same check without a database: 0 when acceptable, else -1 and *why. */
int store_setting_check(const char *key, const char *value, const char **why);

/* The known setting keys in a fixed order: index 0, 1, ... until NULL. */
const char *store_setting_key(size_t index);

/* Log levels, in the order of the log table's level column (0..4). */
int store_log_level_parse(const char *name);   /* -1 if unknown */
const char *store_log_level_name(int level);    /* NULL if out of range */

typedef struct {
    int64_t id;
    char name[STORE_NAME_MAX + 1];
    int enabled;                       /* 0 or 1 */
    int source_instance;               /* IIS SMTP virtual server number */
    char pickup_dir[PLAT_PATH_MAX];    /* the Plain server's Pickup folder */
    int expired_cert;                  /* route expired / failed TLS plain */
    int64_t created_ms, updated_ms;
} store_rule;

store_status store_rule_add(store *s, const char *name, const char *pickup_dir,
                            int source_instance, int64_t *id);
/* Name lookup ignores case, like the UNIQUE constraint. */
store_status store_rule_get(store *s, const char *name, store_rule *rule);
/* The rule that applies to a virtual server: its first enabled rule by id;
 * STORE_ERR_NOT_FOUND when there is none. */
store_status store_rule_for_source(store *s, int source_instance, store_rule *rule);
/* All rules by id; *rules is malloc'd (free() it), NULL when there are none. */
store_status store_rule_list(store *s, store_rule **rules, size_t *count);

/* Fields left at STORE_UNCHANGED (or NULL for pickup_dir) keep their value. */
#define STORE_UNCHANGED (-1)
typedef struct {
    int enabled;
    int expired_cert;
    int source_instance;
    const char *pickup_dir;
} store_rule_change;
void store_rule_change_init(store_rule_change *change);
store_status store_rule_update(store *s, const char *name, const store_rule_change *change);
/* Gives a rule a new name (checked like store_rule_add's); its id, settings
 * and domain lists stay. A change of case only is allowed; a name another
 * rule holds (ignoring case) is STORE_ERR_EXISTS, a missing old_name
 * STORE_ERR_NOT_FOUND. */
store_status store_rule_rename(store *s, const char *old_name, const char *new_name);
/* Deletes the rule and its domain lists. */
store_status store_rule_delete(store *s, const char *name);

typedef enum { STORE_LIST_FORCE_PLAIN, STORE_LIST_NEVER_REDIRECT } store_list;
const char *store_list_name(store_list list);          /* "force-plain", ... */
int store_list_parse(const char *name, store_list *list); /* 0 or -1 */

/* Add patterns to a rule's list. Every pattern is validated before any is
 * stored; the first bad one fails the call (STORE_ERR_INVALID, naming it and
 * why) and nothing changes. The force-plain list refuses patterns covering
 * a whole top-level domain (domain_force_plain_problem). Patterns already
 * on the list are kept once. */
store_status store_domains_add(store *s, const char *rule, store_list list,
                               const char *const *patterns, size_t count);
/* store_domains_add's checks alone: STORE_OK when every pattern would be
 * accepted on the list, else STORE_ERR_INVALID naming the first bad one. */
store_status store_domains_check(store *s, store_list list, const char *const *patterns,
                                 size_t count);
/* Remove patterns; each must be on the list, else nothing changes
 * (STORE_ERR_NOT_FOUND naming it). */
store_status store_domains_remove(store *s, const char *rule, store_list list,
                                  const char *const *patterns, size_t count);
/* A rule's list in pattern order; free with store_strings_free. */
store_status store_domains_list(store *s, const char *rule, store_list list,
                                char ***patterns, size_t *count);
void store_strings_free(char **strings, size_t count);

#endif
