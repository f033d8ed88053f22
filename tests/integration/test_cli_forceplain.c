/* `tlsrouter domains add NAME force-plain ...` asks the domains first: one
 * that publishes MTA-STS enforce or DANE is refused with a warning unless
 * --force; a look-up without an answer is a note, not a refusal. Against
 * the tests' DNS server and a real HTTPS policy server with a test CA. */
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
#include "store.h"
#include "stscache.h"
#include "stsd.h"
#include "trtest.h"

static const char enforce_policy[] = "version: STSv1\nmode: enforce\nmx: mx.enforce.test\n"
                                     "max_age: 86400\n";
static const unsigned char digest[32] = { 0xfe, 0xed };

typedef struct {
    trtest_scratch dir;
    char ca_file[PLAT_PATH_MAX];
    certgen_pair ca, sts_cert;
    dnsd *dns;
    stsd *sts;
    trtest_result res;
} fixture;

static void serve_domains(dnsd *d)
{
    dnsd_add_domain(d, "enforce.test");
    dnsd_add_txt(d, "_mta-sts.enforce.test", "v=STSv1; id=e1");
    /* DANE: validated TLSA records under a validated MX RRset. */
    dnsd_add_domain(d, "dane.test");
    dnsd_set_ad(d, "dane.test");
    dnsd_add_tlsa(d, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(d, "_25._tcp.mx.dane.test");
    dnsd_add_domain(d, "plain.test");
    /* Nothing about slow.test is ever answered. */
    dnsd_set_silent(d, "slow.test");
    dnsd_set_silent(d, "_mta-sts.slow.test");
}

/* The policy of enforce.test, fetched from the HTTPS server into the
 * database's MTA-STS cache, as the sink does on its first look-up. */
static int learn_enforce_policy(fixture *f)
{
    store *st;
    char err[256];
    stscache_result r;
    mtasts_options opt = { dnsd_server(f->dns), f->ca_file, "127.0.0.1", stsd_port(f->sts), 5000 };
    stscache *cache = stscache_new();
    if (!cache || store_open(f->dir.db, &st, err, sizeof err) != STORE_OK)
        return -1;
    mtasts_status got = stscache_lookup(cache, st, "enforce.test", &opt, plat_wall_ms(), &r);
    store_close(st);
    stscache_free(cache);
    return got == MTASTS_OK && r.policy.mode == MTASTS_MODE_ENFORCE ? 0 : -1;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_scratch_make(&f->dir, "cliforce") != 0 ||
        trtest_join(f->ca_file, sizeof f->ca_file, f->dir.path, "ca.pem") != 0 ||
        certgen_make_ca("Force-plain Test CA", &f->ca) != 0 ||
        certgen_make("mta-sts.enforce.test", -60, 86400, &f->ca, &f->sts_cert) != 0 ||
        certgen_write_pem(&f->ca, f->ca_file) != 0 || !(f->dns = dnsd_start()) ||
        !(f->sts = stsd_start(STSD_POLICY, &f->sts_cert, enforce_policy)))
        return -1;
    serve_domains(f->dns);
    if (learn_enforce_policy(f) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    trtest_result_free(&f->res);
    stsd_stop(f->sts);
    dnsd_stop(f->dns);
    certgen_free(&f->ca);
    certgen_free(&f->sts_cert);
    trtest_scratch_remove(&f->dir);
    free(f);
    return 0;
}

/* tlsrouter --db DB --dns DNSD args...; the exit status. */
static int run(fixture *f, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&f->res, f->dir.db, dnsd_server(f->dns), args), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run((f), (const char *const[]){ __VA_ARGS__, NULL })

static void assert_force_plain_list(fixture *f, const char *json_list)
{
    char want[256];
    snprintf(want, sizeof want, "\"force_plain\":%s", json_list);
    assert_int_equal(RUN(f, "rule", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, want));
}

static void enforce_policy_refused_without_force(void **state)
{
    fixture *f = *state;
    unsigned fetched = stsd_requests(f->sts);
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", f->dir.path), 0);
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "plain.test", "Enforce.Test."), 2);
    assert_non_null(strstr(f->res.err, "tlsrouter: warning: enforce.test publishes an MTA-STS "
                                       "policy in enforce mode (id e1), which requires TLS: on "
                                       "the force-plain list its mail goes plain against it\n"));
    assert_non_null(strstr(f->res.err, "tlsrouter: nothing added; add --force to put it on the "
                                       "force-plain list anyway\n"));
    assert_null(strstr(f->res.err, "plain.test"));
    assert_force_plain_list(f, "[]");
    /* The admin insists: added, nothing asked. */
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "plain.test", "--force",
                         "Enforce.Test."), 0);
    assert_string_equal(f->res.err, "");
    assert_force_plain_list(f, "[\"enforce.test\",\"plain.test\"]");
    /* The policy came from the database's cache: the id had not changed. */
    assert_int_equal(stsd_requests(f->sts), fetched);
}

static void dane_refused_without_force(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", f->dir.path), 0);
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "dane.test"), 2);
    assert_non_null(strstr(f->res.err, "tlsrouter: warning: dane.test publishes DANE "
                                       "(DNSSEC-validated TLSA records for its mail server "
                                       "mx.dane.test), which requires TLS"));
    assert_force_plain_list(f, "[]");
    /* Never-redirect is not asked: it keeps mail on TLS. */
    assert_int_equal(RUN(f, "domains", "add", "r", "never-redirect", "dane.test", "enforce.test"), 0);
    assert_string_equal(f->res.err, "");
}

/* Nothing published: added without a word. A wildcard names no domain to
 * ask. A domain whose look-ups get no answer is added with a note, within
 * the --timeout deadline. */
static void nothing_published_or_no_answer(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "r", "--pickup", f->dir.path), 0);
    assert_int_equal(RUN(f, "domains", "add", "r", "force-plain", "plain.test", "*.enforce.test"), 0);
    assert_string_equal(f->res.err, "");
    uint64_t start = plat_now_ms();
    assert_int_equal(RUN(f, "--timeout", "1", "domains", "add", "r", "force-plain", "slow.test"), 0);
    uint64_t took = plat_now_ms() - start;
    print_message("a silent domain was given up after %llu ms (deadline 1000 ms)\n",
                  (unsigned long long)took);
    assert_true(took < 3000);
    assert_non_null(strstr(f->res.err, "tlsrouter: note: could not learn whether slow.test "
                                       "publishes a policy that requires TLS"));
    assert_force_plain_list(f, "[\"*.enforce.test\",\"plain.test\",\"slow.test\"]");
    /* --force belongs to add. */
    assert_int_equal(RUN(f, "domains", "remove", "r", "force-plain", "slow.test", "--force"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(enforce_policy_refused_without_force, setup, teardown),
        cmocka_unit_test_setup_teardown(dane_refused_without_force, setup, teardown),
        cmocka_unit_test_setup_teardown(nothing_published_or_no_answer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
