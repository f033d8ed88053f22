/* route_run end to end on a real database and real folders: the table's
 * no-probe rows, one pickup file per message with our trace line, the loop
 * guard on a message that comes back, failed hand-offs that lose nobody,
 * the journal (with each row's virtual server), the expired cache, changes from a second connection, and
 * many threads at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expcache.h"
#include "journal_replay.h"
#include "pickup.h"
#include "route_world.h"

#define ROUTER_HOST "tls-router.corp.example"

/* The rule of the demo: legacy domains forced plain, gmail.com never
 * redirected (and, on both lists, never-redirect wins). */
static void add_rule(route_world *w, int expired_toggle)
{
    route_world_add_rule(w, expired_toggle);
    route_world_add_pattern(w, STORE_LIST_FORCE_PLAIN, "legacy.example");
    route_world_add_pattern(w, STORE_LIST_FORCE_PLAIN, "*.old.example");
    route_world_add_pattern(w, STORE_LIST_NEVER_REDIRECT, "gmail.com");
    route_world_add_pattern(w, STORE_LIST_FORCE_PLAIN, "gmail.com");
}

static const char msg_text[] = "From: s@corp.example\r\nSubject: t\r\n\r\n.dot\r\nbody\r\n";

/* The DNS server knows no domain: domains the table sends to the probe
 * get a quick, local answer (no-domain). */
static int setup(void **state)
{
    route_world *w = route_world_open("route");
    /* This server's name in the hand-off trace. */
    route_world_set(w, "ehlo_name", ROUTER_HOST);
    route_world_start(w);
    w->message_id = "msg-1";
    w->body = msg_text;
    *state = w;
    return 0;
}

static void assert_decision(const route_result *r, size_t i, const char *domain, int plain,
                            const char *reason)
{
    assert_true(i < r->n);
    assert_string_equal(r->decisions[i].domain, domain);
    assert_int_equal(r->decisions[i].plain, plain);
    assert_string_equal(decide_reason_name(r->decisions[i].reason), reason);
}

/* Our trace line for virtual server instance at text, and nothing else
 * between it and the message's own first line. */
static void assert_trace_line(const char *text, int instance)
{
    char hand_off[64];
    const char *head = "Received: by " ROUTER_HOST " (TLS Router " TLSROUTER_VERSION ")";
    snprintf(hand_off, sizeof hand_off, "with hand-off from virtual server %d;", instance);
    assert_memory_equal(text, head, strlen(head));
    const char *end = strstr(text, " +0000\r\n");
    assert_non_null(end);
    const char *at = strstr(text, hand_off);
    assert_true(at && at < end);
    assert_true(text[end - text + 8] != ' ' && text[end - text + 8] != '\t');
}

static void no_rule_keeps_everyone_on_tls(void **state)
{
    route_world *w = *state;
    const char *rcpts[] = { "a@legacy.example", "b@x.example" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 2, &r), 0);
    assert_decision(&r, 0, "legacy.example", 0, "no-rule");
    assert_decision(&r, 1, "x.example", 0, "no-rule");
    assert_int_equal(r.handed_off, 0);
    assert_int_equal(route_world_pickup_files(w), 0);
    route_result_free(&r);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE route = 'tls'"
                                            " AND reason = 'no-rule' AND message_id = 'msg-1'"), 2);
}

static void one_pickup_file_for_all_plain_recipients(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_refresh(w);
    const char *rcpts[] = { "a@legacy.example", "b@GMAIL.com", "c@mx.old.example",
                            "d@legacy.example.", "e@x.example" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 5, &r), 0);
    assert_decision(&r, 0, "legacy.example", 1, "force-plain-list");
    assert_decision(&r, 1, "gmail.com", 0, "never-redirect-list");
    assert_decision(&r, 2, "mx.old.example", 1, "force-plain-list");
    assert_decision(&r, 3, "legacy.example", 1, "force-plain-list");
    /* Probed: the domain does not exist, the probe cannot tell, TLS. */
    assert_decision(&r, 4, "x.example", 0, "probe-failed");
    assert_string_equal(probe_status_name(r.decisions[4].status), "no-domain");
    assert_int_equal(r.handed_off, 3);
    assert_int_equal(route_world_pickup_files(w), 1);
    assert_int_equal(trtest_count_entries(w->pickup_temp), 0);
    size_t len;
    char *file = trtest_read_file(r.pickup_path, &len);
    assert_non_null(file);
    const char *envelope = "x-sender: s@corp.example\r\n"
                           "x-receiver: a@legacy.example\r\n"
                           "x-receiver: c@mx.old.example\r\n"
                           "x-receiver: d@legacy.example.\r\n";
    const char *message = "From: s@corp.example\r\nSubject: t\r\n\r\n..dot\r\nbody\r\n";
    assert_true(len > strlen(envelope) + strlen(message));
    assert_memory_equal(file, envelope, strlen(envelope));
    assert_trace_line(file + strlen(envelope), 1);
    assert_memory_equal(file + len - strlen(message), message, strlen(message));
    free(file);
    route_result_free(&r);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal"), 5);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE route = 'plain'"), 3);
}

static void failed_hand_off_keeps_everyone_on_tls(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_refresh(w);
    const char *rcpts[] = { "a@legacy.example", "b@x.old.example" };
    route_result r;

    pickup_inject_fault(PICKUP_FAULT_WRITE);
    assert_int_equal(route_world_run(w, rcpts, 2, &r), -1);
    assert_non_null(strstr(r.error, "no space"));
    assert_int_equal(r.handed_off, 0);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_int_equal(r.decisions[1].plain, 0);
    assert_non_null(strstr(r.decisions[0].detail, "hand-off failed"));
    assert_int_equal(route_world_pickup_files(w), 0);
    assert_int_equal(trtest_count_entries(w->pickup_temp), 0);
    route_result_free(&r);

    pickup_inject_fault(PICKUP_FAULT_RENAME);
    assert_int_equal(route_world_run(w, rcpts, 2, &r), -1);
    assert_int_equal(r.handed_off, 0);
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 0);
    assert_int_equal(trtest_count_entries(w->pickup_temp), 0);

    trtest_remove_tree(w->pickup);
    assert_int_equal(route_world_run(w, rcpts, 2, &r), -1);
    assert_non_null(strstr(r.error, "does not exist"));
    assert_int_equal(r.decisions[0].plain + r.decisions[1].plain, 0);
    route_result_free(&r);
    assert_int_equal(trtest_count_entries(w->pickup_temp) <= 0, 1);
    /* Every recipient journalled, all on TLS, none lost. */
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE route = 'tls'"
                                            " AND detail LIKE 'hand-off failed%'"), 6);
    /* And each failure is in the log, at level error. */
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM log WHERE level = 0"
                                            " AND message LIKE '%hand-off failed%'"), 3);
}

static void a_hand_off_can_be_taken_back(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_refresh(w);
    const char *first[] = { "z@legacy.example" };
    route_result kept;
    assert_int_equal(route_world_run(w, first, 1, &kept), 0);
    assert_int_equal(kept.handed_off, 1);

    const char *rcpts[] = { "a@legacy.example", "b@gmail.com", "c@x.old.example" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 3, &r), 0);
    assert_int_equal(r.handed_off, 2);
    assert_true(r.journal_id > kept.journal_id);
    assert_int_equal(route_world_pickup_files(w), 2);
    /* The caller could not update the message: take the file back. */
    assert_int_equal(route_undo(w->eng, &r, "envelope update failed"), 0);
    assert_int_equal(r.handed_off, 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r.decisions[i].plain, 0);
    assert_non_null(strstr(r.decisions[0].detail, "envelope update failed"));
    assert_int_equal(route_world_pickup_files(w), 1);
    /* The journal says what happened; the other message's row is as it was. */
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE route = 'plain'"), 1);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE route = 'tls'"
                                            " AND detail LIKE 'hand-off taken back%'"), 2);
    route_result_free(&r);

    /* A file already gone (picked up) cannot be taken back. */
    assert_int_equal(plat_remove(kept.pickup_path), 0);
    assert_int_equal(route_undo(w->eng, &kept, "too late"), -1);
    assert_int_equal(kept.handed_off, 1);
    assert_int_equal(kept.decisions[0].plain, 1);
    route_result_free(&kept);
}

static void forged_addresses_never_reach_the_pickup_file(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_refresh(w);
    const char *rcpts[] = { "a@legacy.example\r\nx-receiver: victim@relay.example",
                            "b@legacy.example", "<c@legacy.example>" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 3, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "address-refused");
    assert_decision(&r, 1, "legacy.example", 1, "force-plain-list");
    assert_int_equal(r.decisions[2].plain, 0);
    assert_int_equal(r.handed_off, 1);
    char *file = trtest_read_file(r.pickup_path, NULL);
    assert_non_null(file);
    assert_null(strstr(file, "victim"));
    assert_non_null(strstr(file, "x-receiver: b@legacy.example\r\nReceived: by " ROUTER_HOST));
    free(file);
    route_result_free(&r);

    /* A forged sender: nobody can be handed off. */
    route_message m = route_world_message(w, rcpts + 1, 1);
    m.message_id = "msg-2";
    m.sender = "s@corp.example\r\nx-receiver: v@relay.example";
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_non_null(strstr(r.decisions[0].detail, "sender refused"));
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 1);
}

/* What the Plain server sends on from a pickup file: everything after the
 * envelope lines, our trace on top. */
static unsigned char *message_part_of(const char *path, size_t *len)
{
    size_t file_len;
    char *file = trtest_read_file(path, &file_len);
    assert_non_null(file);
    const char *at = file;
    while (strncmp(at, "x-", 2) == 0) {
        const char *end = strstr(at, "\r\n");
        assert_non_null(end);
        at = end + 2;
    }
    *len = file_len - (size_t)(at - file);
    unsigned char *msg = malloc(*len + 1);
    assert_non_null(msg);
    memcpy(msg, at, *len + 1);
    free(file);
    return msg;
}

static void assert_looped(const route_result *r, const char *domain0)
{
    assert_int_equal(r->looped, 1);
    assert_int_equal(r->handed_off, 0);
    for (size_t i = 0; i < r->n; i++) {
        assert_int_equal(r->decisions[i].plain, 0);
        assert_string_equal(decide_reason_name(r->decisions[i].reason), "loop");
        assert_non_null(strstr(r->decisions[i].detail, "hand-off trace (" ROUTER_HOST));
    }
    assert_string_equal(r->decisions[0].domain, domain0);
}

/* A handed-off message that comes back to the same virtual server (the
 * Plain server's smart host is this one) carries our trace: it stays on
 * TLS with reason loop, never a second pickup file. Through another
 * virtual server, or once this server has another name, it is somebody
 * else's hand-off and routed as usual. */
static void a_message_that_came_back_is_not_handed_off_again(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    const char *legacy[] = { "legacy.example" };
    assert_int_equal(store_rule_add(w->admin, "second", w->pickup, 2, NULL), STORE_OK);
    assert_int_equal(store_domains_add(w->admin, "second", STORE_LIST_FORCE_PLAIN, legacy, 1),
                     STORE_OK);
    route_world_refresh(w);
    const char *rcpts[] = { "a@legacy.example", "b@mx.old.example" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 2, &r), 0);
    assert_int_equal(r.looped, 0);
    assert_int_equal(r.handed_off, 2);
    size_t len;
    unsigned char *back = message_part_of(r.pickup_path, &len);
    assert_int_equal(plat_remove(r.pickup_path), 0);
    route_result_free(&r);

    route_message m = route_world_message(w, rcpts, 2);
    m.message_id = "msg-back";
    m.message = back;
    m.message_len = len;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_looped(&r, "legacy.example");
    assert_string_equal(r.trace_host, ROUTER_HOST);
    assert_int_equal(route_world_pickup_files(w), 0);
    route_result_free(&r);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE message_id = 'msg-back'"
                                            " AND route = 'tls' AND reason = 'loop'"), 2);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM log WHERE level = 1"
                                            " AND message LIKE '%message msg-back came back%'"), 1);

    /* Virtual server 2 never wrote that trace: its own hand-off, which
     * adds its trace on top of the first. */
    m.message_id = "msg-via-2";
    m.source_instance = 2;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_int_equal(r.looped, 0);
    assert_decision(&r, 0, "legacy.example", 1, "force-plain-list");
    assert_int_equal(r.handed_off, 1);
    size_t len2;
    unsigned char *twice = message_part_of(r.pickup_path, &len2);
    assert_trace_line((const char *)twice, 2);
    assert_int_equal(pickup_has_trace(twice, len2, ROUTER_HOST, 2), 1);
    assert_int_equal(pickup_has_trace(twice, len2, ROUTER_HOST, 1), 1);
    assert_int_equal(plat_remove(r.pickup_path), 0);
    free(twice);
    route_result_free(&r);

    /* This server renamed: the trace is another host's. */
    route_world_set(w, "ehlo_name", "other.corp.example");
    m.message_id = "msg-other-host";
    m.source_instance = 1;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_int_equal(r.looped, 0);
    assert_decision(&r, 0, "legacy.example", 1, "force-plain-list");
    assert_decision(&r, 1, "mx.old.example", 1, "force-plain-list");
    assert_int_equal(r.handed_off, 2);
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 1);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE reason = 'loop'"), 2);
    free(back);
}

/* Each journal row names the virtual server its message came through, so
 * a rule's what-if keeps to its own server's recipients. */
static void journal_rows_name_their_virtual_server(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_refresh(w);
    const char *rcpts[] = { "a@legacy.example", "b@gmail.com" };
    route_message m = route_world_message(w, rcpts, 2);
    route_result r;
    m.message_id = "msg-via-2";
    m.source_instance = 2;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_decision(&r, 0, "legacy.example", 0, "no-rule");
    route_result_free(&r);
    m.message_id = "msg-via-1";
    m.source_instance = 1;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_decision(&r, 0, "legacy.example", 1, "force-plain-list");
    route_result_free(&r);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE message_id ="
                                        " 'msg-via-2' AND source_instance = 2"), 2);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE message_id ="
                                        " 'msg-via-1' AND source_instance = 1"), 2);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal"
                                        " WHERE source_instance IS NULL"), 0);

    replay_edit edit;
    replay_report report;
    char err[256];
    replay_edit_init(&edit);
    assert_int_equal(journal_replay_rule(w->admin, ROUTE_WORLD_RULE, &edit,
                                         replay_since_ms(plat_wall_ms(), 1), &report, err,
                                         sizeof err),
                     STORE_OK);
    assert_int_equal(report.looked_at, 2);
    assert_int_equal(report.changed, 0);
    assert_int_equal(report.unattributed, 0);
    replay_report_free(&report);
}

static void expired_cache_routes_plain_and_clears_without_restart(void **state)
{
    route_world *w = *state;
    sqlite3 *db = store_db(w->admin);
    char err[256];
    add_rule(w, 1);
    /* Another process found the certificate expired. */
    expcache_times t;
    expcache_times_default(&t);
    expcache_sighting seen = { "stale.example", "mx.stale.example", 1000, plat_wall_ms() };
    assert_int_equal(expcache_saw_expired(NULL, db, &seen, &t, plat_wall_ms(), err,
                                          sizeof err), 1);
    route_world_refresh(w);
    const char *rcpts[] = { "a@stale.example" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 1, &r), 0);
    assert_decision(&r, 0, "stale.example", 1, "expired-cache");
    route_result_free(&r);
    /* Cleared elsewhere: the next poll forgets it. */
    assert_int_equal(expcache_clear(db, 0, plat_wall_ms(), err, sizeof err), 1);
    route_world_refresh(w);
    assert_int_equal(route_world_run(w, rcpts, 1, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    route_result_free(&r);
    /* Lapsed entries do not count. */
    expcache_sighting long_ago = { "stale.example", "", -1, plat_wall_ms() - 7200000 };
    assert_int_equal(expcache_saw_expired(NULL, db, &long_ago, &t, plat_wall_ms(), err,
                                          sizeof err), 1);
    route_world_refresh(w);
    assert_int_equal(route_world_run(w, rcpts, 1, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    route_result_free(&r);
    assert_int_equal(expcache_clear(db, 1, plat_wall_ms(), err, sizeof err), 1);
}

static void rule_change_by_another_connection_seen_within_a_second(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_refresh(w);
    const char *rcpts[] = { "a@newly.example" };
    route_result r;
    assert_int_equal(route_world_run(w, rcpts, 1, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    route_result_free(&r);

    route_world_add_pattern(w, STORE_LIST_FORCE_PLAIN, "newly.example");
    uint64_t start = plat_now_ms();
    int plain = 0;
    uint64_t waited = 0;
    while (!plain && waited < 5000) {
        assert_int_equal(route_world_run(w, rcpts, 1, &r), 0);
        plain = r.decisions[0].plain;
        route_result_free(&r);
        waited = plat_now_ms() - start;
        if (!plain)
            plat_sleep_ms(20);
    }
    assert_true(plain);
    /* The engine polls once a second; the figure is printed, not asserted,
     * so a loaded machine cannot fail the test on timing alone. */
    print_message("rule change seen after %llu ms\n", (unsigned long long)waited);

    /* Disabling the rule is seen the same way. */
    store_rule_change off;
    store_rule_change_init(&off);
    off.enabled = 0;
    assert_int_equal(store_rule_update(w->admin, ROUTE_WORLD_RULE, &off), STORE_OK);
    start = plat_now_ms();
    waited = 0;
    while (plain && waited < 5000) {
        assert_int_equal(route_world_run(w, rcpts, 1, &r), 0);
        plain = r.decisions[0].plain;
        route_result_free(&r);
        waited = plat_now_ms() - start;
        if (plain)
            plat_sleep_ms(20);
    }
    assert_false(plain);
    print_message("rule disabled seen after %llu ms\n", (unsigned long long)waited);
}

/* ---- many threads ------------------------------------------------------ */

#define THREADS 8
#define MESSAGES_PER_THREAD 1250

typedef struct {
    route_world *w;
    int id;
    size_t recipients;
    size_t plain_files;
    int failures;
} worker;

static void route_many(void *arg)
{
    worker *k = arg;
    char rc_buf[4][64];
    char mid[64];
    for (int m = 0; m < MESSAGES_PER_THREAD; m++) {
        size_t n = 1 + (size_t)(m % 4);
        const char *rcpts[4];
        for (size_t i = 0; i < n; i++) {
            /* Mostly never-redirect and no-probe paths; one message in
             * 125 goes plain, so the pickup path runs concurrently too. */
            const char *dom = (m % 125 == 0 && i == 0) ? "legacy.example"
                              : (i % 2) ? "gmail.com" : "x.gmail.example";
            snprintf(rc_buf[i], sizeof rc_buf[i], "t%d-m%d-r%d@%s", k->id, m, (int)i, dom);
            rcpts[i] = rc_buf[i];
        }
        snprintf(mid, sizeof mid, "t%d-m%d", k->id, m);
        route_message msg = route_world_message(k->w, rcpts, n);
        msg.message_id = mid;
        route_result r;
        if (route_run(k->w->eng, &msg, &r) != 0 || r.error[0])
            k->failures++;
        k->plain_files += r.handed_off > 0;
        k->recipients += n;
        route_result_free(&r);
    }
}

static void eight_threads_ten_thousand_messages(void **state)
{
    route_world *w = *state;
    add_rule(w, 0);
    route_world_add_pattern(w, STORE_LIST_NEVER_REDIRECT, "*.gmail.example");
    route_world_refresh(w);
    worker k[THREADS];
    plat_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        k[i] = (worker){ w, i, 0, 0, 0 };
        t[i] = plat_thread_start(route_many, &k[i]);
        assert_non_null(t[i]);
    }
    size_t recipients = 0, files = 0;
    for (int i = 0; i < THREADS; i++) {
        plat_thread_join(t[i]);
        assert_int_equal(k[i].failures, 0);
        recipients += k[i].recipients;
        files += k[i].plain_files;
    }
    assert_int_equal(route_world_int(w, "SELECT count(DISTINCT message_id) FROM journal"),
                               THREADS * MESSAGES_PER_THREAD);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal"), (int64_t)recipients);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM journal WHERE route = 'plain'"),
                               (int64_t)files);
    assert_int_equal(route_world_pickup_files(w), (int)files);
    assert_int_equal(files, THREADS * (MESSAGES_PER_THREAD / 125));
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM log WHERE level = 0"), 0);
}

/* When the engine starts, hand-off files a stopped process left in the
 * temporary folder of an enabled rule's Pickup folder more than an hour
 * ago are removed; a younger one stays (it may be being written). */
static void stale_hand_off_files_removed_at_start(void **state)
{
    route_world *w = *state;
    char stale[PLAT_PATH_MAX], young[PLAT_PATH_MAX];
    long long now = (long long)plat_wall_ms();
    add_rule(w, 0);
    assert_int_equal(plat_mkdir(w->pickup_temp), 0);
    assert_int_equal(trtest_join(stale, sizeof stale, w->pickup_temp, "tlsrouter-1-2-3.tmp"), 0);
    assert_int_equal(trtest_join(young, sizeof young, w->pickup_temp, "tlsrouter-1-2-4.tmp"), 0);
    assert_int_equal(trtest_write_file(stale, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(trtest_write_file(young, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(trtest_set_mtime(stale, now - 2 * 3600 * 1000LL), 0);
    assert_int_equal(trtest_set_mtime(young, now - 50 * 60 * 1000LL), 0);
    route_world_start(w); /* a restart */
    assert_int_equal(trtest_count_entries(w->pickup_temp), 1);
    char *left = trtest_read_file(young, NULL);
    assert_non_null(left);
    free(left);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM log WHERE message LIKE '%removed 1"
                                            " hand-off file(s) older than an hour%'"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROUTE_WORLD_TEST(no_rule_keeps_everyone_on_tls, setup),
        ROUTE_WORLD_TEST(one_pickup_file_for_all_plain_recipients, setup),
        ROUTE_WORLD_TEST(failed_hand_off_keeps_everyone_on_tls, setup),
        ROUTE_WORLD_TEST(a_hand_off_can_be_taken_back, setup),
        ROUTE_WORLD_TEST(forged_addresses_never_reach_the_pickup_file, setup),
        ROUTE_WORLD_TEST(a_message_that_came_back_is_not_handed_off_again, setup),
        ROUTE_WORLD_TEST(journal_rows_name_their_virtual_server, setup),
        ROUTE_WORLD_TEST(expired_cache_routes_plain_and_clears_without_restart, setup),
        ROUTE_WORLD_TEST(rule_change_by_another_connection_seen_within_a_second, setup),
        ROUTE_WORLD_TEST(eight_threads_ten_thousand_messages, setup),
        ROUTE_WORLD_TEST(stale_hand_off_files_removed_at_start, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
