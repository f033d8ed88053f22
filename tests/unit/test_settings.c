/* settings: the one settings table (settings.h), checked against itself and
 * the modules that take their words and defaults from it (test_store checks
 * it against what db/schema.sql seeds). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "guard.h"
#include "log.h"
#include "pcache.h"
#include "probe.h"
#include "settings.h"
#include "store.h"

/* Each setting is explained and its default passes its own check. */
static void every_setting_is_explained_and_valid(void **state)
{
    const setting_def *d;
    size_t n = 0;
    for (; (d = setting_at(n)) != NULL; n++) {
        const char *why = NULL;
        assert_true(strlen(d->label) > 0);
        assert_true(strlen(d->help) > 20);
        assert_int_equal(d->help[strlen(d->help) - 1], '.');
        if (store_setting_check(d->key, d->default_value, &why) != 0)
            fail_msg("%s: default '%s' refused: %s", d->key, d->default_value, why);
        assert_ptr_equal(setting_find(d->key), d);
    }
    assert_int_equal(n, SETTING_COUNT);
    assert_null(setting_find("colour"));
    assert_null(setting_find(NULL));
}

static void allowed_values_in_words(void **state)
{
    char text[128];
    setting_allowed_text(setting_at(SETTING_ID_probe_port), text, sizeof text);
    assert_string_equal(text, "a whole number from 1 to 65535");
    setting_allowed_text(setting_at(SETTING_ID_verify_name), text, sizeof text);
    assert_string_equal(text, "0 or 1");
    setting_allowed_text(setting_at(SETTING_ID_log_level), text, sizeof text);
    assert_string_equal(text, "error, warning, info, debug or full-debug");
    setting_allowed_text(setting_at(SETTING_ID_log_level), text, 10);
    assert_string_equal(text, "error, wa");
    setting_allowed_text(setting_at(SETTING_ID_dns_servers), text, sizeof text);
    assert_string_equal(text, "HOST[:PORT] separated by commas, or empty");
}

/* The words of the choices are the words the modules parse. */
static void choices_are_the_modules_words(void **state)
{
    const char *const *floors = setting_at(SETTING_ID_tls_floor)->choices;
    for (int i = 0; floors[i]; i++) {
        probe_floor f;
        assert_int_equal(probe_floor_parse(floors[i], &f), 0);
        assert_int_equal(f, i);
        assert_string_equal(probe_floor_name(f), floors[i]);
    }
    const char *const *levels = setting_at(SETTING_ID_log_level)->choices;
    for (int i = 0; levels[i]; i++)
        assert_int_equal(store_log_level_parse(levels[i]), i);
    assert_string_equal(store_log_level_name(LOG_FULL_DEBUG), "full-debug");
}

/* The modules' own defaults are the table's. */
static void modules_start_from_the_table(void **state)
{
    probe_options o;
    probe_options_default(&o);
    assert_int_equal(o.port, 25);
    assert_int_equal(o.total_timeout_ms, SETTING_DEFAULT_total_timeout_ms);
    assert_int_equal(o.floor, PROBE_FLOOR_AUTO);
    pcache_ttls t;
    pcache_ttls_default(&t);
    assert_int_equal(t.starttls_s, 86400);
    assert_int_equal(t.no_starttls_s, SETTING_DEFAULT_ttl_no_starttls_s);
    assert_int_equal(t.failure_s, SETTING_DEFAULT_ttl_failure_s);
    guard_options g;
    guard_options_default(&g);
    assert_true(g.mta_sts);
    assert_true(g.dane);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_setting_is_explained_and_valid),
        cmocka_unit_test(allowed_values_in_words),
        cmocka_unit_test(choices_are_the_modules_words),
        cmocka_unit_test(modules_start_from_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
