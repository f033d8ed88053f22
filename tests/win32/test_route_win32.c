/* The Windows build routes a message into a Pickup folder laid out as IIS
 * lays it out (mailroot\Pickup), with backslash paths throughout, and
 * writes through mailroot\TLSRouter-Temp on the same volume. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pickup.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

static void routes_into_mailroot_pickup(void **state)
{
    (void)state;
    char root[512], mailroot[600], pickup[700], temp[700], db[700], err[256];
    assert_int_equal(trtest_temp_dir("routewin", root, sizeof root), 0);
    snprintf(mailroot, sizeof mailroot, "%s\\mailroot", root);
    snprintf(pickup, sizeof pickup, "%s\\Pickup\\", mailroot); /* trailing '\' as admins type it */
    snprintf(temp, sizeof temp, "%s\\%s", mailroot, PICKUP_TEMP_DIR_NAME);
    snprintf(db, sizeof db, "%s\\tlsrouter.db", root);
    assert_int_equal(plat_mkdir(mailroot), 0);
    assert_int_equal(plat_mkdir(pickup), 0);

    store *st;
    assert_int_equal(store_open(db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_add(st, "Plain TCP Server", pickup, 1, NULL), STORE_OK);
    const char *patterns[] = { "*.legacy.example" };
    assert_int_equal(store_domains_add(st, "Plain TCP Server", STORE_LIST_FORCE_PLAIN, patterns, 1),
                     STORE_OK);
    store_close(st);

    engine *e;
    if (engine_open(db, &e, err, sizeof err) != 0)
        fail_msg("%s", err);
    const char *rcpts[] = { "a@mx.legacy.example", "b@other.example", "c@mx.legacy.example" };
    static const char body[] = "Subject: win\r\n\r\n.line\r\n";
    route_message m = { .message_id = "<w@corp>", .sender = "s@corp.example",
                        .recipients = rcpts, .n_recipients = 3, .source_instance = 1,
                        .message = (const unsigned char *)body, .message_len = sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(e, &m, &r), 0);
    assert_int_equal(r.handed_off, 2);
    assert_int_equal(r.decisions[1].plain, 0);
    /* The file is in Pickup, named with backslashes, and complete. */
    assert_non_null(strstr(r.pickup_path, "\\Pickup\\tlsrouter-"));
    char *text = trtest_read_file(r.pickup_path, NULL);
    assert_non_null(text);
    /* Envelope, our trace with this machine's name, the message. */
    const char *envelope = "x-sender: s@corp.example\r\n"
                           "x-receiver: a@mx.legacy.example\r\n"
                           "x-receiver: c@mx.legacy.example\r\n";
    const char *message = "Subject: win\r\n\r\n..line\r\n";
    char trace_head[400];
    assert_true(r.trace_host[0] != '\0');
    snprintf(trace_head, sizeof trace_head, "Received: by %s (TLS Router " TLSROUTER_VERSION ")",
             r.trace_host);
    size_t len = strlen(text);
    assert_true(len > strlen(envelope) + strlen(trace_head) + strlen(message));
    assert_memory_equal(text, envelope, strlen(envelope));
    assert_memory_equal(text + strlen(envelope), trace_head, strlen(trace_head));
    assert_non_null(strstr(text, "with hand-off from virtual server 1;"));
    assert_string_equal(text + len - strlen(message), message);
    assert_int_equal(pickup_has_trace((const unsigned char *)text + strlen(envelope),
                                      len - strlen(envelope), r.trace_host, 1),
                     1);
    free(text);
    route_result_free(&r);
    engine_close(e);
    assert_int_equal(trtest_count_entries(pickup), 1);
    /* The temporary folder is the sibling of Pickup, and empty. */
    assert_true(plat_is_dir(temp));
    assert_int_equal(trtest_count_entries(temp), 0);
    trtest_remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_into_mailroot_pickup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
