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
 * A rule acts on the messages of its own IIS virtual server, so only that
 * server's rows are replayed. Rows written before the journal recorded the
 * server (schema version 7) name none: they are counted apart as
 * unattributed, and replayed as the rule's only when no other virtual
 * server has an enabled rule (another server's rows then hold no-rule and
 * are not replayable anyway); otherwise they are left out. */
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
    size_t looked_at;          /* journal rows (recipients) in the window replayed */
    size_t changed;            /* of those, the ones whose route would change */
    size_t not_replayable;     /* kept their route: the facts were not recorded */
    replay_change *domains;    /* malloc'd; most recipients first, then by domain */
    size_t n_domains;
    int source_instance;       /* the virtual server whose rows were replayed */
    size_t unattributed;       /* rows in the window without a virtual server */
    int unattributed_replayed; /* 1: they are in looked_at; 0: they were left out */
} replay_report;

void replay_report_free(replay_report *r);

/* One recorded decision against the edited rule: 1 with *new_route set,
 * 0 when it cannot be replayed. domain, route ("tls"/"plain"), reason and
 * status are the journal's words. */
int replay_decide(const decide_rule *edited, const char *domain, const char *route,
                  const char *reason, const char *status, decide_route *new_route);

/* The start of a window of days days ending at now_ms. */
int64_t replay_since_ms(int64_t now_ms, int days);

/* Whose journal rows a replay takes. */
typedef struct {
    int source_instance;       /* the rule's virtual server, 1.. */
    int unattributed_are_its;  /* rows without a server are the rule's too */
} replay_scope;

/* The scope of a rule of virtual server source_instance: rows without a
 * server are its own when no enabled rule of another virtual server is
 * stored. rule_id is the stored rule being edited (0: a rule not saved
 * yet): it stands for itself, even where it is stored with another server.
 * 0, or -1 with store_error(s). */
int replay_scope_of(store *s, int64_t rule_id, int source_instance, replay_scope *out);

/* The journal rows of scope with at_ms >= since_ms against the edited
 * rule. 0, or -1 with err (the report is then empty). */
int journal_replay(sqlite3 *db, const decide_rule *edited, const replay_scope *scope,
                   int64_t since_ms, replay_report *out, char *err, size_t errlen);

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
