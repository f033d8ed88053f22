/* journal_replay: "what if" for a rule edit. The journal's rows of a window
 * are decided again for an edited rule (its lists and expired option) with
 * the facts each row recorded (reason, probe status, route), through
 * decide(), the router's own table: no probe, no DNS, no guard look-up.
 *
 * A row can be replayed only when the edited rule's decision rests on facts
 * the row holds. One that would need a fact the router never looked up for
 * it (no probe ran, the guard was not asked, or it had no answer) keeps its
 * route and counts as not replayable: a guessed "plain" would be a
 * downgrade, a guessed "tls" a false comfort.
 *
 * The journal does not record the virtual server a row came from: every
 * row of the window is replayed except no-rule ones (a server without a
 * rule), so with rules on several virtual servers the rows of all count. */
#ifndef TR_JOURNAL_REPLAY_H
#define TR_JOURNAL_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "domain.h"
#include "store.h"

#define REPLAY_DEFAULT_DAYS 7
#define REPLAY_MAX_DAYS 3650

/* An edited rule as decide() reads it, owning its two pattern sets. */
typedef struct {
    decide_rule rule;
    domset *force_plain;
    domset *never_redirect;
} replay_rule;

/* Patterns are normalised (domain_pattern_normalize). 0, or -1 when memory
 * ran out or a pattern is empty (nothing is left to free then). */
int replay_rule_init(replay_rule *r, int expired_cert, const char *const *force_plain,
                     size_t n_force_plain, const char *const *never_redirect,
                     size_t n_never_redirect);
void replay_rule_free(replay_rule *r);

/* One domain's recipients that would change route, old -> new. */
typedef struct {
    char domain[DOMAIN_BUF];
    decide_route old_route;    /* as the journal recorded it */
    decide_route new_route;    /* under the edited rule */
    size_t count;
} replay_change;

typedef struct {
    size_t looked_at;          /* journal rows (recipients) in the window */
    size_t changed;            /* of those, the ones whose route would change */
    size_t not_replayable;     /* kept their route: the facts were not recorded */
    replay_change *domains;    /* malloc'd; most recipients first, then by domain */
    size_t n_domains;
    size_t other_servers;      /* journal_replay_rule: other virtual servers with an
                                  enabled rule, whose rows are replayed too */
} replay_report;

void replay_report_free(replay_report *r);

/* One recorded decision against the edited rule: 1 with *new_route set,
 * 0 when it cannot be replayed. domain, route ("tls"/"plain"), reason and
 * status are the journal's words. */
int replay_decide(const decide_rule *edited, const char *domain, const char *route,
                  const char *reason, const char *status, decide_route *new_route);

/* The start of a window of days days ending at now_ms. */
int64_t replay_since_ms(int64_t now_ms, int days);

/* Every journal row with at_ms >= since_ms against the edited rule. 0, or
 * -1 with err (the report is then empty). */
int journal_replay(sqlite3 *db, const decide_rule *edited, int64_t since_ms,
                   replay_report *out, char *err, size_t errlen);

/* Virtual servers other than source_instance with an enabled rule: their
 * rows are in the journal too, and nothing there tells them apart. 0, or
 * -1 with store_error(s). */
int replay_other_servers(store *s, int source_instance, size_t *count);

/* An edit of a stored rule: a list given replaces the rule's own, one not
 * given keeps it; patterns as typed (checked and normalised as the store
 * would take them on that list). */
typedef struct {
    const char *const *force_plain;
    size_t n_force_plain;
    int force_plain_given;
    const char *const *never_redirect;
    size_t n_never_redirect;
    int never_redirect_given;
    int expired_cert;          /* 0, 1 or STORE_UNCHANGED */
} replay_edit;

void replay_edit_init(replay_edit *e);

/* journal_replay for the stored rule rule_name (ignoring case) with edit
 * applied. STORE_ERR_NOT_FOUND for no such rule, STORE_ERR_INVALID for a
 * bad pattern (err names it and says why), STORE_ERR_IO or
 * STORE_ERR_NOMEM with err. */
store_status journal_replay_rule(store *s, const char *rule_name, const replay_edit *edit,
                                 int64_t since_ms, replay_report *out, char *err,
                                 size_t errlen);

#endif
