/* route_world: the world the routing tests run in, built one way. A folder
 * of the test's own holding a real database and a Pickup folder; the
 * tests' DNS server (knowing no name until the test adds some); a second
 * connection to the database, as the manager or the CLI would have; a test
 * CA for MTA-STS policy hosts; the engine. On demand: the SMTP peer every
 * MX host is, an MTA-STS policy host.
 *
 * The functions check their own work with cmocka's asserts: call them from
 * tests and from cmocka setups. */
#ifndef TR_ROUTE_WORLD_H
#define TR_ROUTE_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "certgen.h"
#include "dnsd.h"
#include "engine.h"
#include "peer.h"
#include "route.h"
#include "store.h"
#include "stsd.h"
#include "trtest.h"

/* The rule route_world_add_rule adds: virtual server 1 to w->pickup. */
#define ROUTE_WORLD_RULE "Plain TCP Server"

typedef struct {
    trtest_scratch dir;               /* the test's folder; dir.db the database */
    char pickup[PLAT_PATH_MAX];       /* the rule's Pickup folder */
    char pickup_temp[PLAT_PATH_MAX];  /* where hand-off files are written first */
    char ca_file[PLAT_PATH_MAX];      /* ca, as PEM */
    store *admin;                     /* the second connection */
    engine *eng;                      /* NULL while stopped */
    dnsd *dns;                        /* the resolver of every look-up */
    certgen_pair ca;                  /* signs the policy host's certificate */
    peer *mx;                         /* route_world_serve's peer, or NULL */
    stsd *policy_host;                /* route_world_policy_host's, or NULL */
    certgen_pair policy_cert;
    /* What route_world_message sends: "m1" and a short message, unless the
     * test points these elsewhere. */
    const char *message_id;
    const char *body;
} route_world;

/* Folders, database, DNS server (dns_servers set to it; total_timeout_ms
 * 8000, so a probe nobody answers ends well within a test's time) and CA.
 * No rule, no engine yet. tag names the folder. */
route_world *route_world_open(const char *tag);
/* Stops everything route_world started, removes the folder, frees w, and
 * clears an injected pickup fault. */
void route_world_close(route_world *w);
/* The cmocka teardown of tests whose state is a route_world. */
int route_world_teardown(void **state);
/* A cmocka test run in the route_world its setup opens. */
#define ROUTE_WORLD_TEST(test, setup) \
    cmocka_unit_test_setup_teardown(test, setup, route_world_teardown)

/* Opens the engine on the database; a running one is closed first (a
 * restart). */
void route_world_start(route_world *w);
void route_world_stop(route_world *w);
/* The engine reads the database now rather than at its next poll. */
void route_world_refresh(route_world *w);

/* A setting through the second connection, then a refresh when the engine
 * runs. */
void route_world_set(route_world *w, const char *key, const char *value);
/* ROUTE_WORLD_RULE, enabled, with the expired-certificate toggle as given. */
void route_world_add_rule(route_world *w, int expired_cert);
/* A pattern on one of ROUTE_WORLD_RULE's lists; the engine sees it at its
 * next poll or refresh. */
void route_world_add_pattern(route_world *w, store_list list, const char *pattern);
/* A policy fetched earlier: domain's MTA-STS policy with this id and mode
 * (MX mx.<domain>) in the database, valid far into the future. */
void route_world_known_policy(route_world *w, const char *domain, const char *id,
                              const char *mode);

/* Every MX host is p from now on (probe_port): the previous peer stops. */
void route_world_serve(route_world *w, peer *p);
/* Nobody answers any more: the peer stops, probe_port is a closed port. */
void route_world_serve_nobody(route_world *w);
/* mta-sts.<domain> (127.0.0.1 in the DNS) serving policy over HTTPS, its
 * certificate signed by w->ca. One per world. */
stsd *route_world_policy_host(route_world *w, const char *domain, const char *policy);

/* A message from s@corp.example through virtual server 1, with the world's
 * message_id and body; the test may change any field. */
route_message route_world_message(const route_world *w, const char *const *rcpts, size_t n);
/* route_run of route_world_message; returns what route_run returns. */
int route_world_run(route_world *w, const char *const *rcpts, size_t n, route_result *r);
/* route_world_run, which must return 0. */
void route_world_route(route_world *w, const char *const *rcpts, size_t n, route_result *r);
void route_world_route_one(route_world *w, const char *rcpt, route_result *r);

/* Through the second connection: the first column of the first row of
 * sql; -1 when there is no row. */
int64_t route_world_int(route_world *w, const char *sql);
/* The same as text (the caller frees); "" when there is no row or NULL. */
char *route_world_text(route_world *w, const char *sql);
/* "route|reason|detail" of recipient's newest journal row, or "" (the
 * caller frees). */
char *route_world_journal_row(route_world *w, const char *recipient);
/* Files in the Pickup folder; -1 when it is gone. */
int route_world_pickup_files(const route_world *w);

#endif
