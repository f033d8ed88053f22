/* probe_settings_load: the probe options follow the database's settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probe_settings.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    store *st;
} fixture;

static int setup(void **state)
{
    static fixture f;
    char err[256];
    memset(&f, 0, sizeof f);
    if (trtest_scratch_make(&f.dir, "probeset") != 0
        || store_open(f.dir.db, &f.st, err, sizeof err) != STORE_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    return trtest_scratch_remove(&f->dir);
}

static void defaults_of_a_new_database(void **state)
{
    fixture *f = *state;
    probe_settings s;
    assert_int_equal(probe_settings_load(f->st, &s), STORE_OK);
    assert_int_equal(s.opts.port, 25);
    assert_int_equal(s.opts.connect_timeout_ms, 5000);
    assert_int_equal(s.opts.reply_timeout_ms, 10000);
    assert_int_equal(s.opts.total_timeout_ms, 20000);
    assert_null(s.opts.dns_servers);
    assert_null(s.opts.ehlo_name);
    assert_int_equal(s.opts.floor, PROBE_FLOOR_AUTO);
    assert_false(s.opts.verify_chain);
    assert_false(s.opts.verify_name);
}

static void edited_settings_are_used(void **state)
{
    fixture *f = *state;
    probe_settings s;
    assert_int_equal(store_setting_set(f->st, "probe_port", "2525"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "dns_servers", "127.0.0.1:5353"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "ehlo_name", "relay.example.com"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "tls_floor", "tls1.0"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "verify_chain", "1"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "total_timeout_ms", "7000"), STORE_OK);
    assert_int_equal(probe_settings_load(f->st, &s), STORE_OK);
    assert_int_equal(s.opts.port, 2525);
    assert_string_equal(s.opts.dns_servers, "127.0.0.1:5353");
    assert_string_equal(s.opts.ehlo_name, "relay.example.com");
    assert_int_equal(s.opts.floor, PROBE_FLOOR_TLS10);
    assert_true(s.opts.verify_chain);
    assert_false(s.opts.verify_name);
    assert_int_equal(s.opts.total_timeout_ms, 7000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_of_a_new_database),
        cmocka_unit_test(edited_settings_are_used),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
