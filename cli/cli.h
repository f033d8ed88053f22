/* cli: the `tlsrouter` command. main.c parses the global options into a
 * cli_ctx and hands the rest of argv to one command function. */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "store.h"

/* Exit status contract (DESIGN.md). */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_ctx {
    char db_path[PLAT_PATH_MAX]; /* --db, TLSROUTER_DB or the default */
    int db_is_default;           /* the platform default: its folder may be created */
    const char *dns;             /* --dns HOST[:PORT][,...], NULL when not given */
    long timeout_ms;             /* --timeout in ms, 0 when not given */
    store *st;                   /* opened by cli_store on first use */
    FILE *out;                   /* stdout */
} cli_ctx;

/* The store, opened on first use. NULL after printing the error (exit 1). */
store *cli_store(cli_ctx *ctx);

/* Print "tlsrouter: <message>" as one line on stderr; returns code. */
int cli_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Map a store failure to an exit status and print store_error (or err). */
int cli_store_error(cli_ctx *ctx, store_status st);

/* "on"/"off" to 1/0; -1 otherwise. */
int cli_parse_onoff(const char *v);
/* Is argv[i] exactly opt? */
int cli_is(const char *arg, const char *opt);

/* text as lines of at most width columns, each indented by indent, broken
 * at blanks (a word longer than a line gets a line of its own). */
void cli_print_wrapped(FILE *out, int indent, int width, const char *text);
/* at_ms (ms since the epoch) as "YYYY-MM-DDTHH:MM:SSZ" in UTC, with
 * ".mmm" before the Z when with_ms; the number itself when out of range. */
void cli_format_utc(int64_t at_ms, int with_ms, char *buf, size_t len);

/* The Pickup folder of IIS SMTP virtual server instance: 0, or -1 when it
 * is not known (no IIS, or the native build: cli/iis_source_*.c). */
int cli_source_pickup(int instance, char *buf, size_t len);

/* The Windows facts the setup checks need (manager/checkhost.c); NULL in
 * the native build (cli/check_host_*.c). */
const check_host *cli_check_host(void);

#define CLI_COMMAND(name, usage) int cmd_##name(cli_ctx *ctx, int argc, char **argv);
#include "commands.h"
#undef CLI_COMMAND

#endif
