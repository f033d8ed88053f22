/* route: the whole per-message path of DESIGN.md. Group recipients by
 * domain, decide each domain once (probing the uncached ones in parallel
 * under one deadline), write one pickup file for every recipient routed
 * plain, journal every decision in one transaction. Thread-safe: any
 * number of threads may route through one engine at once. */
#ifndef TR_ROUTE_H
#define TR_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "pickup.h"
#include "plat.h"

typedef struct {
    const char *message_id;           /* NULL or "": unknown */
    const char *sender;               /* "" for the null reverse path */
    const char *const *recipients;
    size_t n_recipients;
    int source_instance;              /* IIS virtual server number, 1.. */
    const unsigned char *message;     /* the whole message, headers first */
    size_t message_len;
} route_message;

typedef struct {
    char recipient[PICKUP_ADDRESS_MAX + 1];
    char domain[256];
    int plain;             /* 1: in the pickup file; take it off the message */
    decide_reason reason;  /* DECIDE_ADDRESS_REFUSED: the address cannot go
                              into a pickup file */
    probe_status status;   /* PROBE_NOT_PROBED when not probed */
    char mx[256];
    char tls_version[32];
    char detail[256];
    int64_t elapsed_ms;    /* time spent deciding this domain */
} route_decision;

typedef struct {
    size_t n;
    route_decision *decisions;   /* same order as the input recipients */
    int handed_off;              /* recipients now in the pickup file */
    int looped;                  /* the message carries this server's hand-off
                                    trace: all on TLS, reason "loop" */
    char trace_host[PICKUP_TRACE_HOST_MAX + 1]; /* this server in that trace */
    char pickup_path[PLAT_PATH_MAX];
    char error[256];             /* why a hand-off failed, or a journal error */
    int64_t journal_id;          /* id of the first journal row; 0: not journalled */
} route_result;

/* 0 when the message was routed (handed_off may be 0: all stay on TLS).
 * -1 when the hand-off failed: no file is left, every recipient has
 * plain == 0 (the whole message goes the TLS way) and error says why.
 * The journal is written either way; a journal failure is logged and
 * reported in error without changing the return value. */
int route_run(engine *e, const route_message *msg, route_result *out);
void route_result_free(route_result *r);

/* Takes a hand-off back when the caller could not take the recipients off
 * the message (e.g. the envelope update failed): removes the pickup file,
 * puts every recipient back on TLS (plain = 0, detail says why) in r and in
 * the journal. 0 when the file was removed (or there was none); -1 when it
 * could not be (it may already be picked up), with r left as it was. */
int route_undo(engine *e, route_result *r, const char *why);

/* The normalised domain of an address (after the last '@', through
 * domain_normalize). -1 when it has none or it is not a valid name. */
int route_domain_of(const char *address, char *buf, size_t len);

#endif
