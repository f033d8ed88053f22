/* INTERIM, test-only: the agreed routing interface, until core/route.h
 * lands from the routing work. Removed when it does. */
#ifndef TR_ROUTE_H
#define TR_ROUTE_H
#include <stddef.h>
#include "engine.h"
typedef struct {
    const char *message_id;
    const char *sender;
    const char *const *recipients;
    size_t n_recipients;
    int source_instance;
    const unsigned char *message;
    size_t message_len;
} route_message;
typedef struct {
    char recipient[321];
    char domain[256];
    int plain;
    char reason[32];
    char status[32];
} route_decision;
typedef struct {
    size_t n;
    route_decision *decisions;
    int handed_off;
    char pickup_path[1024];
    char error[256];
} route_result;
int route_run(engine *e, const route_message *msg, route_result *out);
void route_result_free(route_result *r);
#endif
