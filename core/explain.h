/* explain: every journal reason in plain words for the Windows mail
 * administrator, in one table: a short title, what happened, and what to
 * do about it. `tlsrouter explain`, the manager's journal details and the
 * Admin Guide all read it from here, so they cannot drift apart; a reason
 * added to decide.h without its text does not compile (explain.c) and
 * fails test_explain. The texts are ASCII: a Windows console prints them
 * as they are. */
#ifndef TR_EXPLAIN_H
#define TR_EXPLAIN_H

#include "decide.h"

/* Where a reason sends the recipient. DEPENDS: the rule's option "Or if
 * recipient server SSL certificate has expired" decides (rows 10 and 11). */
typedef enum {
    EXPLAIN_TLS,
    EXPLAIN_PLAIN,
    EXPLAIN_DEPENDS
} explain_route;

typedef struct {
    decide_reason reason;
    explain_route route;
    const char *title;     /* a few words, no full stop */
    const char *meaning;   /* what happened, in sentences */
    const char *action;    /* what to do about it, in sentences */
} explain_text;

/* The text of a reason; NULL for a value that is no reason. */
const explain_text *explain_reason(decide_reason reason);
/* The text of a journal word (decide_reason_name); NULL when it names no
 * reason this version knows. */
const explain_text *explain_lookup(const char *name);
/* "tls", "plain" or "depends". */
const char *explain_route_name(explain_route route);

#endif
