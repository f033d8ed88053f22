/* check: the setup checks of `tlsrouter check` and the manager's Check
 * button. Every step of the brief's setup is one named check with a
 * status, a sentence saying what was found and a sentence saying what to
 * do about it. The list is one table (check.c); checks that need facts only
 * Windows has get them through the host hooks the adapter passes, and are
 * skipped, saying why, where there are none. */
#ifndef TR_CHECK_H
#define TR_CHECK_H

#include <stddef.h>

typedef enum {
    CHECK_OK = 0,
    CHECK_WARN,
    CHECK_FAIL,
    CHECK_SKIP
} check_status;

#define CHECK_NAME_MAX 32
#define CHECK_TEXT_MAX 480

typedef struct {
    char name[CHECK_NAME_MAX];
    check_status status;
    char detail[CHECK_TEXT_MAX];   /* what was found */
    char remedy[CHECK_TEXT_MAX];   /* what to do ("" when nothing) */
} check_row;

/* Windows facts, supplied by the adapter (CLI, manager); any hook may be
 * NULL, and then its check is skipped. Each returns a check_status and
 * writes its sentences into row. */
typedef struct {
    /* The service's state: ok running, fail stopped or missing. name is
     * the service name (IISADMIN, SMTPSVC); iis_smtp: 1 for "is IIS SMTP
     * installed at all" (the key the installer looks for). */
    check_status (*service)(const char *name, int installed_only, check_row *row);
    /* Is the sink's COM class registered? */
    check_status (*sink_registered)(check_row *row);
    /* Is the sink bound (and enabled) to virtual server instance? */
    check_status (*sink_bound)(int instance, check_row *row);
    /* The client TLS protocols the system stack allows. */
    check_status (*schannel)(check_row *row);
} check_host;

typedef struct {
    const char *db_path;
    const char *dns_servers;       /* NULL: the dns_servers setting, else the system's */
    unsigned timeout_ms;           /* per network check; 0: 5000 */
    const check_host *host;        /* NULL: not a Windows host */
    /* The domain whose MX hosts the outbound-25 check connects to, and
     * the one the dns check asks for. NULL: "gmail.com" / "example.com". */
    const char *outbound_domain;
    const char *dns_domain;
    /* Tests: IIS's configuration from this MetaBase.xml instead of the
     * host's (ADSI, else %windir%'s MetaBase.xml; nothing off Windows). */
    const char *metabase;
} check_options;

/* Runs every check in table order into a fresh array (free()). Always
 * fills *rows unless out of memory (-1). */
int check_run(const check_options *o, check_row **rows, size_t *n);

/* 1 when a row failed (the command's exit status 1). */
int check_any_failed(const check_row *rows, size_t n);

/* "ok", "warn", "fail", "skip". */
const char *check_status_name(check_status s);

/* The name of the index'th check in table order ("database", ...); NULL
 * past the last. For documents that list every check (the Admin Guide's
 * test). */
const char *check_name_at(size_t index);

#endif
