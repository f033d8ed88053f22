/* The tlsrouter command as scripts see it: exit status, one-line errors on
 * stderr, human and JSON output. Runs the built executable (TR_TEST_CLI). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "plat.h"
#include "trtest.h"

typedef trtest_cli_fixture fixture;

/* Run `tlsrouter --db <db> args...`; returns the exit status. */
static int run(fixture *f, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&f->res, f->dir.db, NULL, args), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run((f), (const char *const[]){ __VA_ARGS__, NULL })

/* Exactly one line on stderr, "tlsrouter: " + want. */
static void assert_error_line(const fixture *f, const char *want)
{
    size_t len = strlen("tlsrouter: \n") + strlen(want) + 1;
    char *line = malloc(len);
    assert_non_null(line);
    snprintf(line, len, "tlsrouter: %s\n", want);
    assert_string_equal(f->res.err, line);
    free(line);
    assert_string_equal(f->res.out, "");
}

static void test_rule_add_list_json(void **state)
{
    fixture *f = *state;
    /* Forcing a domain plain asks it for MTA-STS and DANE first: the
     * tests' DNS server answers (it knows no name). */
    dnsd *dns = dnsd_start();
    assert_non_null(dns);
    assert_int_equal(RUN(f, "config", "dns_servers", dnsd_server(dns)), 0);
    assert_int_equal(RUN(f, "rule", "add", "relay", "--pickup", "C:\\Mail\\Pickup", "--source", "2"), 0);
    assert_string_equal(f->res.out, "");
    assert_string_equal(f->res.err, "");
    assert_int_equal(RUN(f, "domains", "add", "relay", "force-plain", "Old.Example.", "*.legacy.example"), 0);
    assert_string_equal(f->res.err, "");
    dnsd_stop(dns);
    assert_int_equal(RUN(f, "domains", "add", "relay", "never-redirect", "bank.example"), 0);
    assert_int_equal(RUN(f, "rule", "set", "relay", "--expired-cert", "on", "--enabled", "off"), 0);
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_string_equal(f->res.out,
                        "[{\"name\":\"relay\",\"enabled\":false,\"source\":2,"
                        "\"pickup\":\"C:\\\\Mail\\\\Pickup\",\"expired_cert\":true,"
                        "\"force_plain\":[\"*.legacy.example\",\"old.example\"],"
                        "\"never_redirect\":[\"bank.example\"]}]\n");
    assert_int_equal(RUN(f, "rule", "list"), 0);
    assert_string_equal(f->res.out,
                        "NAME                 ENABLED  SOURCE  EXPIRED-CERT  PICKUP\n"
                        "relay                off      2       on            C:\\Mail\\Pickup\n"
                        "  force-plain:    *.legacy.example, old.example\n"
                        "  never-redirect: bank.example\n");
    assert_int_equal(RUN(f, "domains", "remove", "relay", "force-plain", "OLD.example"), 0);
    assert_int_equal(RUN(f, "rule", "set", "relay", "--pickup", "D:\\P"), 0);
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"pickup\":\"D:\\\\P\""));
    assert_non_null(strstr(f->res.out, "\"force_plain\":[\"*.legacy.example\"]"));
}

static void test_json_escapes_names(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_string_equal(f->res.out, "[]\n");
    assert_int_equal(RUN(f, "rule", "list"), 0);
    assert_string_equal(f->res.out, "no rules\n");
    assert_int_equal(RUN(f, "rule", "add", "say \"hi\" \\o/", "--pickup", "/p"), 0);
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"name\":\"say \\\"hi\\\" \\\\o/\""));
}

static void test_bad_patterns_refused_naming_them(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", "P"), 0);
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "good.example", "a*.example", "z.example"), 2);
    assert_error_line(f, "bad domain pattern 'a*.example': wildcard only allowed as the whole first label '*.'");
    assert_int_equal(RUN(f, "domains", "add", "r", "never-redirect", "b\xc3\xbc" "cher.de"), 2);
    assert_error_line(f, "bad domain pattern 'b\xc3\xbc" "cher.de': non-ASCII character (use punycode xn--...)");
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "x..y"), 2);
    assert_error_line(f, "bad domain pattern 'x..y': empty label");
    /* Nothing of a refused batch was stored. */
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"force_plain\":[]"));
    assert_int_equal(RUN(f, "domains", "add", "r", "plain", "x.example"), 2);
    assert_error_line(f, "unknown list 'plain': use force-plain or never-redirect");
    assert_int_equal(RUN(f, "domains", "add", "nobody", "force-plain", "x.example"), 2);
    assert_error_line(f, "no rule named 'nobody'");
    assert_int_equal(RUN(f, "domains", "remove", "r", "force-plain", "x.example"), 2);
    assert_error_line(f, "'x.example' is not on the force-plain list of rule 'r'");
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain"), 2);
    /* A whole top-level domain: never forced plain, may be never-redirect. */
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "ok.example", "COM"), 2);
    assert_error_line(f, "bad domain pattern 'COM': a force-plain pattern may not cover a whole "
                         "top-level domain: the mail of every domain under it would lose TLS");
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "*.org"), 2);
    assert_int_equal(RUN(f, "domains", "add", "r", "never-redirect", "com", "*.org"), 0);
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"force_plain\":[],\"never_redirect\":[\"*.org\",\"com\"]"));
}

static void test_rule_usage_errors(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "r"), 2);
    assert_error_line(f, "rule add needs --pickup DIR");
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", "P", "--source", "0"), 2);
    assert_error_line(f, "--source: '0' is not a virtual server number (1-65535)");
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", "P"), 0);
    assert_int_equal(RUN(f, "rule", "add", "R", "--pickup", "P"), 2);
    assert_error_line(f, "rule 'R' exists already");
    assert_int_equal(RUN(f, "rule", "set", "r"), 2);
    assert_int_equal(RUN(f, "rule", "set", "r", "--enabled", "yes"), 2);
    assert_error_line(f, "--enabled: expected on or off, not 'yes'");
    assert_int_equal(RUN(f, "rule", "set", "ghost", "--enabled", "on"), 2);
    assert_error_line(f, "no rule named 'ghost'");
    assert_int_equal(RUN(f, "rule", "list", "--xml"), 2);
    assert_int_equal(RUN(f, "rule", "remove", "r"), 2);
    assert_int_equal(RUN(f, "frobnicate"), 2);
    assert_error_line(f, "unknown command 'frobnicate' (see tlsrouter --help)");
    assert_int_equal(RUN(f, "--timeout", "soon", "rule", "list"), 2);
    assert_error_line(f, "--timeout: 'soon' is not a number of seconds (0 < s <= 3600)");
    assert_int_equal(RUN(f, "--dns", "8.8.8.8 1.1.1.1", "rule", "list"), 2);
    assert_error_line(f, "--dns: '8.8.8.8 1.1.1.1' is not HOST[:PORT][,...]");
    assert_int_equal(RUN(f, "--bogus"), 2);
    assert_error_line(f, "unknown option --bogus (see tlsrouter --help)");
}

static void test_loglevel(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "loglevel"), 0);
    assert_string_equal(f->res.out, "info\n");
    assert_int_equal(RUN(f, "loglevel", "full-debug"), 0);
    assert_int_equal(RUN(f, "loglevel"), 0);
    assert_string_equal(f->res.out, "full-debug\n");
    assert_int_equal(RUN(f, "loglevel", "loud"), 2);
    assert_error_line(f, "unknown log level 'loud': use error, warning, info, debug or full-debug");
    assert_int_equal(RUN(f, "loglevel"), 0);
    assert_string_equal(f->res.out, "full-debug\n");
}

static void test_operational_failures_exit_1(void **state)
{
    fixture *f = *state;
    char want[2048], missing[520], notdb[560];
    assert_int_equal(trtest_join(missing, sizeof missing, f->dir.path, "gone"), 0);
    assert_int_equal(trtest_join(f->dir.db, sizeof f->dir.db, missing, "t.db"), 0);
    assert_int_equal(RUN(f, "rule", "list"), 1);
    snprintf(want, sizeof want, "folder of database %s does not exist", f->dir.db);
    assert_error_line(f, want);
    assert_false(plat_is_dir(missing));   /* a folder the user named is never created */

    assert_int_equal(trtest_join(notdb, sizeof notdb, f->dir.path, "text.db"), 0);
    assert_int_equal(trtest_write_file(notdb, "hello, I am not a database at all, really not.\n"), 0);
    snprintf(f->dir.db, sizeof f->dir.db, "%s", notdb);
    assert_int_equal(RUN(f, "loglevel"), 1);
    snprintf(want, sizeof want, "%s is not a SQLite database", notdb);
    assert_error_line(f, want);
}

static void test_help_version_and_env_default(void **state)
{
    fixture *f = *state;
    trtest_result res;
    const char *help[] = { "--help", NULL };
    const char *version[] = { "--version", NULL };
    const char *add[] = { "rule", "add", "from-env", "--pickup", "P", NULL };
    const char *list[] = { "--dns", "127.0.0.1:5353", "--timeout", "2.5", "rule", "list", "--json", NULL };
    assert_int_equal(trtest_run_cli(help, &res), 0);
    assert_int_equal(res.exit_code, 0);
    assert_non_null(strstr(res.out, "rule add NAME --pickup DIR [--source N]"));
    assert_non_null(strstr(res.out, "domains add|remove NAME force-plain|never-redirect PATTERN..."));
    trtest_result_free(&res);
    assert_int_equal(trtest_run_cli(version, &res), 0);
    assert_int_equal(res.exit_code, 0);
    assert_non_null(strstr(res.out, "tlsrouter " TLSROUTER_VERSION));
    trtest_result_free(&res);

    /* Without --db the command uses TLSROUTER_DB. */
    trtest_setenv("TLSROUTER_DB", f->dir.db);
    assert_int_equal(trtest_run_cli(add, &res), 0);
    assert_int_equal(res.exit_code, 0);
    trtest_result_free(&res);
    assert_int_equal(trtest_run_cli(list, &res), 0);
    trtest_setenv("TLSROUTER_DB", NULL);
    assert_int_equal(res.exit_code, 0);
    assert_non_null(strstr(res.out, "\"name\":\"from-env\""));
    trtest_result_free(&res);
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"name\":\"from-env\""));
}

static void test_read_only_database_exit_1(void **state)
{
    fixture *f = *state;
    char want[2048];
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", "P"), 0);
    assert_int_equal(trtest_give_to_unprivileged(f->dir.path), 0);
    if (trtest_make_readonly(f->dir.db) != 0)
        skip();   /* Windows under Wine as root, without the immutable flag */
    /* Permission bits bind: as an unprivileged user, root or not. */
    const char *list[] = { "--db", f->dir.db, "rule", "list", NULL };
    trtest_result_free(&f->res);
    assert_int_equal(trtest_run_cli_unprivileged(list, &f->res), 0);
    trtest_strip_cr(f->res.out);
    trtest_strip_cr(f->res.err);
    int rc = f->res.exit_code;
    assert_int_equal(trtest_make_writable(f->dir.db), 0);
    assert_int_equal(rc, 1);
    snprintf(want, sizeof want, "database %s is read-only (cannot open it for writing)", f->dir.db);
    assert_error_line(f, want);
}

/* Without --db and TLSROUTER_DB the command uses the platform's data folder
 * and creates it. Only where the test can point that folder elsewhere
 * (XDG_DATA_HOME); on Windows it is %ProgramData%, shared by the machine. */
static void test_default_folder_created(void **state)
{
#ifdef _WIN32
    (void)state;
    skip();
#else
    fixture *f = *state;
    char xdg[600], folder[700], db[800];
    trtest_result res;
    const char *list[] = { "rule", "list", NULL };
    assert_int_equal(trtest_join(xdg, sizeof xdg, f->dir.path, "xdg"), 0);
    assert_int_equal(trtest_join(folder, sizeof folder, xdg, "tlsrouter"), 0);
    assert_int_equal(trtest_join(db, sizeof db, folder, "tlsrouter.db"), 0);
    const char *saved = getenv("XDG_DATA_HOME");
    char *old_xdg = saved ? strdup(saved) : NULL;
    trtest_setenv("TLSROUTER_DB", NULL);
    trtest_setenv("XDG_DATA_HOME", xdg);
    int ran = trtest_run_cli(list, &res);
    trtest_setenv("XDG_DATA_HOME", old_xdg);
    free(old_xdg);
    assert_int_equal(ran, 0);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.out, "no rules\n");
    trtest_result_free(&res);
    assert_true(plat_is_dir(folder));
    char *bytes = trtest_read_file(db, NULL);
    assert_non_null(bytes);
    assert_memory_equal(bytes, "SQLite format 3", 15);
    free(bytes);
#endif
}

static void test_config_lists_defaults(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "config"), 0);
    assert_non_null(strstr(f->res.out, "log_level              info\n"));
    assert_non_null(strstr(f->res.out, "probe_port             25\n"));
    assert_non_null(strstr(f->res.out, "total_timeout_ms       20000\n"));
    assert_non_null(strstr(f->res.out, "tls_floor              auto\n"));
}

static void test_config_set_then_get(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "config", "probe_port", "2525"), 0);
    assert_string_equal(f->res.out, "");
    assert_int_equal(RUN(f, "config", "probe_port"), 0);
    assert_string_equal(f->res.out, "2525\n");
    assert_int_equal(RUN(f, "config", "dns_servers", "127.0.0.1:5353,[::1]:53"), 0);
    assert_int_equal(RUN(f, "config", "dns_servers"), 0);
    assert_string_equal(f->res.out, "127.0.0.1:5353,[::1]:53\n");
}

static void test_config_refuses_bad_values(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "config", "probe_port", "0"), 2);
    assert_error_line(f, "cannot set probe_port to '0': number out of range");
    assert_int_equal(RUN(f, "config", "tls_floor", "ssl3"), 2);
    assert_error_line(f, "cannot set tls_floor to 'ssl3': not one of the allowed values");
    assert_int_equal(RUN(f, "config", "no_such_key"), 2);
    assert_error_line(f, "unknown setting 'no_such_key' (tlsrouter config lists them)");
    /* Nothing was changed by the refusals. */
    assert_int_equal(RUN(f, "config", "probe_port"), 0);
    assert_string_equal(f->res.out, "25\n");
}

/* config --help: each setting's help sentence, allowed values and default,
 * from the settings table, without touching the database. */
static void test_config_help(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "config", "--help", "guard_dane"), 0);
    assert_non_null(strstr(f->res.out, "guard_dane (DANE protection)\n"));
    assert_non_null(strstr(f->res.out, "DNSSEC"));
    assert_non_null(strstr(f->res.out, "  Allowed: 0 or 1. Default: 1.\n"));
    for (const char *p = f->res.out; *p;) {
        size_t line = strcspn(p, "\n");
        assert_true(line <= 78);
        p += line + (p[line] == '\n');
    }
    assert_null(trtest_read_file(f->dir.db, NULL));

    assert_int_equal(RUN(f, "config", "--help", "tls_floor"), 0);
    assert_non_null(strstr(f->res.out,
                           "  Allowed: auto, tls1.0, tls1.1, tls1.2 or tls1.3. Default: auto.\n"));

    assert_int_equal(RUN(f, "config", "--help"), 0);
    assert_non_null(strstr(f->res.out, "log_level (Log level)\n"));
    assert_non_null(strstr(f->res.out, "message_timeout_ms (Message timeout (ms))\n"));
    assert_non_null(strstr(f->res.out, "ehlo_name (EHLO name)\n"));
    assert_non_null(strstr(f->res.out, "Default: empty.\n"));

    assert_int_equal(RUN(f, "config", "--help", "colour"), 2);
    assert_error_line(f, "unknown setting 'colour' (tlsrouter config lists them)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_lists_defaults, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_config_help, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_config_set_then_get, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_config_refuses_bad_values, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_rule_add_list_json, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_json_escapes_names, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_bad_patterns_refused_naming_them, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_rule_usage_errors, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_loglevel, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_operational_failures_exit_1, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_help_version_and_env_default, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_database_exit_1, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(test_default_folder_created, trtest_cli_setup, trtest_cli_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
