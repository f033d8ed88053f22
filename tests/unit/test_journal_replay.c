/* What-if for a rule edit (journal_replay) on a real SQLite journal filled
 * through the journal writer, as the router fills it, for rules of one or
 * more virtual servers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "journal_replay.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

#define DAY_MS 86400000LL

typedef struct {
    trtest_scratch dir;
    store *st;
    journal *j;
    int64_t now;
    int source;                /* the virtual server journal_rows writes for; 0 none */
    replay_report report;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_scratch_make(&w->dir, "replay"), 0);
    if (store_open(w->dir.db, &w->st, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    w->j = journal_open(store_db(w->st), err, sizeof err);
    assert_non_null(w->j);
    assert_int_equal(store_rule_add(w->st, "TLS to Plain", "/tmp/plain-pickup", 1, NULL),
                     STORE_OK);
    w->now = plat_wall_ms();
    w->source = 1;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    replay_report_free(&w->report);
    journal_close(w->j);
    store_close(w->st);
    trtest_scratch_remove(&w->dir);
    free(w);
    return 0;
}

/* n recipients of one message to domain, decided as given, days_ago old,
 * from virtual server w->source. */
static void journal_rows(world *w, int days_ago, const char *domain, int plain,
                         decide_reason reason, probe_status status, int n)
{
    journal_entry rows[16];
    char rcpt[16][300], err[256];
    assert_true(n <= 16);
    for (int i = 0; i < n; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "user%d@%s", i, domain);
        rows[i] = (journal_entry){ .at_ms = w->now - days_ago * DAY_MS - 1000,
                                   .message_id = "<m@corp.example>",
                                   .sender = "s@corp.example",
                                   .recipient = rcpt[i],
                                   .domain = domain,
                                   .plain = plain,
                                   .reason = reason,
                                   .status = status,
                                   .source_instance = w->source };
    }
    if (journal_write(w->j, rows, (size_t)n, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* Replays the stored rule with edit over the default week. */
static void replay(world *w, const replay_edit *edit)
{
    char err[256];
    replay_report_free(&w->report);
    store_status r = journal_replay_rule(w->st, "tls to plain", edit,
                                         replay_since_ms(w->now, REPLAY_DEFAULT_DAYS),
                                         &w->report, err, sizeof err);
    if (r != STORE_OK)
        fail_msg("%s", err);
}

static void assert_change(const replay_report *r, size_t i, const char *domain,
                          decide_route old_route, decide_route new_route, size_t count)
{
    assert_true(i < r->n_domains);
    assert_string_equal(r->domains[i].domain, domain);
    assert_int_equal(r->domains[i].old_route, old_route);
    assert_int_equal(r->domains[i].new_route, new_route);
    assert_int_equal(r->domains[i].count, count);
}

static void set_list(replay_edit *e, store_list list, const char *const *p, size_t n)
{
    if (list == STORE_LIST_FORCE_PLAIN) {
        e->force_plain = p;
        e->n_force_plain = n;
        e->force_plain_given = 1;
    } else {
        e->never_redirect = p;
        e->n_never_redirect = n;
        e->never_redirect_given = 1;
    }
}

static void unchanged_rule_changes_nothing(void **state)
{
    world *w = *state;
    replay_edit edit;
    replay_edit_init(&edit);
    journal_rows(w, 1, "tls.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    journal_rows(w, 1, "old.example", 1, DECIDE_NO_STARTTLS, PROBE_NO_STARTTLS, 2);
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 5);
    assert_int_equal(w->report.changed, 0);
    assert_int_equal(w->report.not_replayable, 0);
    assert_int_equal(w->report.n_domains, 0);
}

static void force_plain_pattern_flips_tls_rows(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "*.Partner.example" };
    replay_edit edit;
    replay_edit_init(&edit);
    set_list(&edit, STORE_LIST_FORCE_PLAIN, fp, 1);
    journal_rows(w, 1, "mx.partner.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 4);
    journal_rows(w, 2, "eu.partner.example", 0, DECIDE_PROBE_FAILED, PROBE_TIMEOUT, 1);
    /* Never probed, but the list decides before any probe would. */
    journal_rows(w, 3, "new.partner.example", 0, DECIDE_NEEDS_PROBE, PROBE_NOT_PROBED, 2);
    journal_rows(w, 1, "partner.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 10);
    assert_int_equal(w->report.changed, 7);
    assert_int_equal(w->report.not_replayable, 0);
    assert_int_equal(w->report.n_domains, 3);
    assert_change(&w->report, 0, "mx.partner.example", DECIDE_TLS, DECIDE_PLAIN, 4);
    assert_change(&w->report, 1, "new.partner.example", DECIDE_TLS, DECIDE_PLAIN, 2);
    assert_change(&w->report, 2, "eu.partner.example", DECIDE_TLS, DECIDE_PLAIN, 1);
}

static void removing_expired_option_flips_expired_rows_back(void **state)
{
    world *w = *state;
    store_rule_change on;
    store_rule_change_init(&on);
    on.expired_cert = 1;
    assert_int_equal(store_rule_update(w->st, "TLS to Plain", &on), STORE_OK);
    journal_rows(w, 1, "expired.example", 1, DECIDE_CERT_EXPIRED, PROBE_CERT_EXPIRED, 2);
    journal_rows(w, 2, "expired.example", 1, DECIDE_EXPIRED_CACHE, PROBE_NOT_PROBED, 3);
    journal_rows(w, 1, "oldtls.example", 1, DECIDE_HANDSHAKE_FAILED, PROBE_HANDSHAKE_FAILED, 1);
    journal_rows(w, 1, "plain.example", 1, DECIDE_NO_STARTTLS, PROBE_NO_STARTTLS, 2);

    replay_edit edit;
    replay_edit_init(&edit);
    replay(w, &edit);
    assert_int_equal(w->report.changed, 0);

    edit.expired_cert = 0;
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 8);
    assert_int_equal(w->report.changed, 6);
    assert_int_equal(w->report.not_replayable, 0);
    assert_int_equal(w->report.n_domains, 2);
    assert_change(&w->report, 0, "expired.example", DECIDE_PLAIN, DECIDE_TLS, 5);
    assert_change(&w->report, 1, "oldtls.example", DECIDE_PLAIN, DECIDE_TLS, 1);
}

/* Turning the option on: a domain that stayed on TLS was never asked for
 * its MTA-STS or DANE policy, so whether it would go plain is not known. */
static void expired_option_on_needs_the_guard_it_never_asked(void **state)
{
    world *w = *state;
    journal_rows(w, 1, "expired.example", 0, DECIDE_CERT_EXPIRED, PROBE_CERT_EXPIRED, 2);
    journal_rows(w, 1, "tls.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 1);
    replay_edit edit;
    replay_edit_init(&edit);
    edit.expired_cert = 1;
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 3);
    assert_int_equal(w->report.changed, 0);
    assert_int_equal(w->report.not_replayable, 2);
}

static void never_redirect_keeps_plain_rows_on_tls(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "legacy.example" };
    static const char *const nr[] = { "bank.example" };
    assert_int_equal(store_domains_add(w->st, "TLS to Plain", STORE_LIST_FORCE_PLAIN, fp, 1),
                     STORE_OK);
    journal_rows(w, 1, "bank.example", 1, DECIDE_NO_STARTTLS, PROBE_NO_STARTTLS, 3);
    journal_rows(w, 1, "legacy.example", 1, DECIDE_FORCE_PLAIN, PROBE_NOT_PROBED, 2);
    replay_edit edit;
    replay_edit_init(&edit);
    set_list(&edit, STORE_LIST_NEVER_REDIRECT, nr, 1);
    replay(w, &edit);
    assert_int_equal(w->report.changed, 3);
    assert_change(&w->report, 0, "bank.example", DECIDE_PLAIN, DECIDE_TLS, 3);

    /* The stored force-plain list is kept when not given; given empty, it
     * goes, and legacy.example's facts beyond the list were never looked up. */
    set_list(&edit, STORE_LIST_FORCE_PLAIN, NULL, 0);
    replay(w, &edit);
    assert_int_equal(w->report.changed, 3);
    assert_int_equal(w->report.not_replayable, 2);
}

static void only_the_window_is_replayed(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "x.example" };
    journal_rows(w, 8, "x.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 5);
    journal_rows(w, 6, "x.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 2);
    replay_edit edit;
    replay_edit_init(&edit);
    set_list(&edit, STORE_LIST_FORCE_PLAIN, fp, 1);
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 2);
    assert_int_equal(w->report.changed, 2);

    char err[256];
    replay_report_free(&w->report);
    assert_int_equal(journal_replay_rule(w->st, "TLS to Plain", &edit,
                                         replay_since_ms(w->now, 30), &w->report, err,
                                         sizeof err),
                     STORE_OK);
    assert_int_equal(w->report.looked_at, 7);
    assert_int_equal(w->report.changed, 7);
}

static void policy_protected_rows_never_become_plain(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "*.other.example" };
    journal_rows(w, 1, "sts.example", 0, DECIDE_STS_POLICY, PROBE_NO_STARTTLS, 2);
    journal_rows(w, 1, "dane.example", 0, DECIDE_DANE, PROBE_CERT_EXPIRED, 1);
    replay_edit edit;
    replay_edit_init(&edit);
    edit.expired_cert = 1;
    set_list(&edit, STORE_LIST_FORCE_PLAIN, fp, 1);
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 3);
    assert_int_equal(w->report.changed, 0);
    assert_int_equal(w->report.not_replayable, 0);
}

static void unknown_facts_keep_their_route(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "listed.example" };
    journal_rows(w, 1, "unknown.example", 0, DECIDE_GUARD_UNKNOWN, PROBE_NO_STARTTLS, 2);
    journal_rows(w, 1, "fresh.example", 0, DECIDE_NEEDS_PROBE, PROBE_NOT_PROBED, 1);
    journal_rows(w, 1, "norule.example", 0, DECIDE_NO_RULE, PROBE_NOT_PROBED, 1);
    journal_rows(w, 1, "listed.example", 0, DECIDE_NEVER_REDIRECT, PROBE_NOT_PROBED, 1);
    journal_rows(w, 1, "local.example", 0, DECIDE_IIS_LOCAL_DOMAIN, PROBE_NOT_PROBED, 1);
    replay_edit edit;
    replay_edit_init(&edit);
    edit.expired_cert = 1;
    set_list(&edit, STORE_LIST_FORCE_PLAIN, fp, 1);
    replay(w, &edit);
    /* listed.example leaves a never-redirect list that was not stored: its
     * probe and guard were never run. */
    assert_int_equal(w->report.looked_at, 6);
    assert_int_equal(w->report.changed, 1);
    assert_change(&w->report, 0, "listed.example", DECIDE_TLS, DECIDE_PLAIN, 1);
    assert_int_equal(w->report.not_replayable, 4);
}

static void bad_input_is_refused_with_a_reason(void **state)
{
    world *w = *state;
    static const char *const bad[] = { "ok.example", "not a domain" };
    static const char *const tld[] = { "*.com" };
    char err[256] = "";
    replay_edit edit;
    replay_edit_init(&edit);
    int64_t since = replay_since_ms(w->now, 7);
    assert_int_equal(journal_replay_rule(w->st, "nope", &edit, since, &w->report, err,
                                         sizeof err),
                     STORE_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "nope"));
    set_list(&edit, STORE_LIST_NEVER_REDIRECT, bad, 2);
    assert_int_equal(journal_replay_rule(w->st, "TLS to Plain", &edit, since, &w->report, err,
                                         sizeof err),
                     STORE_ERR_INVALID);
    assert_non_null(strstr(err, "not a domain"));
    replay_edit_init(&edit);
    set_list(&edit, STORE_LIST_FORCE_PLAIN, tld, 1);
    assert_int_equal(journal_replay_rule(w->st, "TLS to Plain", &edit, since, &w->report, err,
                                         sizeof err),
                     STORE_ERR_INVALID);
    assert_non_null(strstr(err, "*.com"));
    assert_int_equal(w->report.n_domains, 0);
}

/* Rules on two virtual servers: each rule's replay takes its own server's
 * rows only, whatever the other server's rows say. */
static void a_rule_replays_only_its_own_servers_rows(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "shared.example" };
    assert_int_equal(store_rule_add(w->st, "Second", "/tmp/p2", 2, NULL), STORE_OK);
    journal_rows(w, 1, "shared.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    journal_rows(w, 1, "one.example", 1, DECIDE_NO_STARTTLS, PROBE_NO_STARTTLS, 1);
    w->source = 2;
    journal_rows(w, 1, "shared.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 5);
    journal_rows(w, 2, "two.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 2);
    w->source = 3;   /* a server without a rule */
    journal_rows(w, 1, "shared.example", 0, DECIDE_NO_RULE, PROBE_NOT_PROBED, 7);

    replay_edit edit;
    replay_edit_init(&edit);
    set_list(&edit, STORE_LIST_FORCE_PLAIN, fp, 1);
    replay(w, &edit);
    assert_int_equal(w->report.source_instance, 1);
    assert_int_equal(w->report.looked_at, 4);
    assert_int_equal(w->report.changed, 3);
    assert_int_equal(w->report.not_replayable, 0);
    assert_int_equal(w->report.unattributed, 0);
    assert_int_equal(w->report.n_domains, 1);
    assert_change(&w->report, 0, "shared.example", DECIDE_TLS, DECIDE_PLAIN, 3);

    char err[256];
    replay_report_free(&w->report);
    assert_int_equal(journal_replay_rule(w->st, "Second", &edit,
                                         replay_since_ms(w->now, REPLAY_DEFAULT_DAYS),
                                         &w->report, err, sizeof err),
                     STORE_OK);
    assert_int_equal(w->report.source_instance, 2);
    assert_int_equal(w->report.looked_at, 7);
    assert_int_equal(w->report.changed, 5);
    assert_change(&w->report, 0, "shared.example", DECIDE_TLS, DECIDE_PLAIN, 5);
}

/* Rows journalled before the server was recorded: the rule's own while no
 * other virtual server has an enabled rule, left out (and counted) once
 * one has. */
static void rows_without_a_server_count_apart(void **state)
{
    world *w = *state;
    static const char *const fp[] = { "legacy.example" };
    w->source = 0;
    journal_rows(w, 2, "legacy.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 2);
    journal_rows(w, 9, "legacy.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 4);  /* too old */
    w->source = 1;
    journal_rows(w, 1, "legacy.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    replay_edit edit;
    replay_edit_init(&edit);
    set_list(&edit, STORE_LIST_FORCE_PLAIN, fp, 1);

    /* Another rule of the same server and a disabled rule elsewhere take
     * no rows from this rule. */
    store_rule_change off;
    store_rule_change_init(&off);
    off.enabled = 0;
    assert_int_equal(store_rule_add(w->st, "Same server", "/tmp/p1", 1, NULL), STORE_OK);
    assert_int_equal(store_rule_add(w->st, "Third", "/tmp/p3", 3, NULL), STORE_OK);
    assert_int_equal(store_rule_update(w->st, "Third", &off), STORE_OK);
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 5);
    assert_int_equal(w->report.changed, 5);
    assert_int_equal(w->report.unattributed, 2);
    assert_int_equal(w->report.unattributed_replayed, 1);
    assert_change(&w->report, 0, "legacy.example", DECIDE_TLS, DECIDE_PLAIN, 5);

    assert_int_equal(store_rule_add(w->st, "Second", "/tmp/p2", 2, NULL), STORE_OK);
    replay(w, &edit);
    assert_int_equal(w->report.looked_at, 3);
    assert_int_equal(w->report.changed, 3);
    assert_int_equal(w->report.unattributed, 2);
    assert_int_equal(w->report.unattributed_replayed, 0);
}

/* The rule being edited stands for itself: moved to another server in the
 * dialog, its stored self is not "another server's rule". */
static void the_edited_rule_is_not_another_servers(void **state)
{
    world *w = *state;
    store_rule stored;
    replay_scope scope;
    assert_int_equal(store_rule_get(w->st, "TLS to Plain", &stored), STORE_OK);
    assert_int_equal(replay_scope_of(w->st, stored.id, 2, &scope), 0);
    assert_int_equal(scope.source_instance, 2);
    assert_int_equal(scope.unattributed_are_its, 1);
    assert_int_equal(replay_scope_of(w->st, 0, 2, &scope), 0);   /* a new rule */
    assert_int_equal(scope.unattributed_are_its, 0);
    assert_int_equal(replay_scope_of(w->st, 0, 1, &scope), 0);
    assert_int_equal(scope.unattributed_are_its, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(unchanged_rule_changes_nothing),
        T(force_plain_pattern_flips_tls_rows),
        T(removing_expired_option_flips_expired_rows_back),
        T(expired_option_on_needs_the_guard_it_never_asked),
        T(never_redirect_keeps_plain_rows_on_tls),
        T(only_the_window_is_replayed),
        T(policy_protected_rows_never_become_plain),
        T(unknown_facts_keep_their_route),
        T(bad_input_is_refused_with_a_reason),
        T(a_rule_replays_only_its_own_servers_rows),
        T(rows_without_a_server_count_apart),
        T(the_edited_rule_is_not_another_servers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
