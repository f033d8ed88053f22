/* `tlsrouter probe` against the tests' DNS and SMTP peers: JSON and text
 * output, --dns / --timeout / --port, the cache row it leaves, exit codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certgen.h"
#include "dnsd.h"
#include "peer.h"
#include "plat.h"
#include "tls.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    dnsd *dns;
    trtest_result res;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_scratch_make(&f->dir, "cliprobe") != 0 || !(f->dns = dnsd_start())) {
        free(f);
        return -1;
    }
    dnsd_add_domain(f->dns, "tls.test");
    dnsd_add_domain(f->dns, "quiet.test");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;
    trtest_result_free(&f->res);
    dnsd_stop(f->dns);
    rc = trtest_scratch_remove(&f->dir);
    free(f);
    return rc;
}

static int run(fixture *f, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&f->res, f->dir.db, dnsd_server(f->dns), args), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run((f), (const char *const[]){ __VA_ARGS__, NULL })

static char *cache_status(const char *db_path, const char *domain)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *status = NULL;
    if (sqlite3_open(db_path, &db) == SQLITE_OK
        && sqlite3_prepare_v2(db, "SELECT status FROM probe_cache WHERE domain = ?1", -1, &st,
                              NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            status = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return status;
}

static void probe_json_of_a_tls_peer(void **state)
{
    fixture *f = *state;
    peer *p = peer_start(PEER_STARTTLS, NULL);
    char port[16], stack[64], *status;
    assert_non_null(p);
    snprintf(port, sizeof port, "%u", peer_port(p));
    assert_int_equal(RUN(f, "probe", "TLS.test.", "--json", "--port", port), 0);
    peer_stop(p);
    assert_string_equal(f->res.err, "");
    assert_non_null(strstr(f->res.out, "\"domain\":\"tls.test\""));
    assert_non_null(strstr(f->res.out, "\"status\":\"starttls\""));
    assert_non_null(strstr(f->res.out, "\"mx\":\"mx.tls.test\""));
    assert_non_null(strstr(f->res.out, "\"address\":\"127.0.0.1\""));
    /* The stack that decided (the system's: Schannel on Windows), the
     * suite by its IANA name. */
    snprintf(stack, sizeof stack, "\"tls_stack\":\"%s\"", tls_stack_name(tls_system_stack()));
    assert_non_null(strstr(f->res.out, stack));
    assert_non_null(strstr(f->res.out, "\"tls_version\":\"TLSv1."));
    assert_non_null(strstr(f->res.out, "\"cipher\":\"TLS_"));
    assert_non_null(strstr(f->res.out, "\"cert_not_after\":1"));
    assert_non_null(strstr(f->res.out, "\"error\":\"\""));
    assert_non_null(strstr(f->res.out, "\"elapsed_ms\":"));
    status = cache_status(f->dir.db, "tls.test");
    assert_non_null(status);
    assert_string_equal(status, "starttls");
    free(status);
}

static void probe_text_of_a_plain_peer(void **state)
{
    fixture *f = *state;
    peer *p = peer_start(PEER_NO_STARTTLS, NULL);
    char port[16];
    assert_non_null(p);
    snprintf(port, sizeof port, "%u", peer_port(p));
    assert_int_equal(RUN(f, "probe", "tls.test", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "status:      no-starttls"));
    assert_non_null(strstr(f->res.out, "The remote SMTP service does not support TLS."));
    assert_null(strstr(f->res.out, "decided by:")); /* no handshake, no stack */
    assert_int_equal(RUN(f, "probe", "tls.test", "--json", "--port", port), 0);
    peer_stop(p);
    assert_non_null(strstr(f->res.out, "\"tls_stack\":null"));
}

/* --stack picks the stack; the text says which one decided. */
static void probe_text_names_the_stack(void **state)
{
    fixture *f = *state;
    peer *p = peer_start(PEER_STARTTLS, NULL);
    char port[16], line[80];
    assert_non_null(p);
    snprintf(port, sizeof port, "%u", peer_port(p));
    assert_int_equal(RUN(f, "probe", "tls.test", "--port", port), 0);
    snprintf(line, sizeof line, "decided by:  %s (the system's TLS stack)",
             tls_stack_name(tls_system_stack()));
    assert_non_null(strstr(f->res.out, line));
    assert_int_equal(RUN(f, "probe", "tls.test", "--port", port, "--stack", "openssl"), 0);
    assert_non_null(strstr(f->res.out, "decided by:  openssl"));
    peer_stop(p);
    assert_int_equal(RUN(f, "probe", "tls.test", "--stack", "gnutls"), 2);
    assert_non_null(strstr(f->res.err, "--stack needs a TLS stack built here"));
}

/* A certificate time nobody can read: shown as such, null in JSON, and
 * no expiry judged from it. */
static void probe_of_an_unreadable_certificate_time(void **state)
{
    fixture *f = *state;
    certgen_pair cert;
    char port[16];
    assert_int_equal(certgen_make_raw_times("mx.tls.test", NULL, "491332000000Z", &cert), 0);
    peer *p = peer_start(PEER_STARTTLS, &cert);
    certgen_free(&cert);
    assert_non_null(p);
    snprintf(port, sizeof port, "%u", peer_port(p));
    /* OpenSSL's handshake takes such a certificate (Schannel's does not). */
    assert_int_equal(RUN(f, "probe", "tls.test", "--json", "--port", port, "--stack", "openssl"),
                     0);
    assert_non_null(strstr(f->res.out, "\"status\":\"starttls\""));
    assert_non_null(strstr(f->res.out, "\"cert_not_after\":null"));
    assert_non_null(strstr(f->res.out, "notAfter could not be read as a date"));
    assert_int_equal(RUN(f, "probe", "tls.test", "--port", port, "--stack", "openssl"), 0);
    peer_stop(p);
    assert_non_null(strstr(f->res.out, "not after:   (cannot be read as a date)"));
}

static void timeout_option_bounds_the_probe(void **state)
{
    fixture *f = *state;
    peer *p = peer_start(PEER_SILENT, NULL);
    char port[16];
    uint64_t start = plat_now_ms();
    assert_non_null(p);
    snprintf(port, sizeof port, "%u", peer_port(p));
    assert_int_equal(RUN(f, "--timeout", "0.8", "probe", "quiet.test", "--json", "--port", port),
                     0);
    peer_stop(p);
    assert_non_null(strstr(f->res.out, "\"status\":\"timeout\""));
    assert_true(plat_now_ms() - start < 5000);
}

static void no_domain_and_bad_input(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "probe", "nowhere.test", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"status\":\"no-domain\""));
    assert_int_equal(RUN(f, "probe", "not a domain"), 2);
    assert_non_null(strstr(f->res.err, "not a domain name"));
    assert_string_equal(f->res.out, "");
    assert_int_equal(RUN(f, "probe"), 2);
    assert_int_equal(RUN(f, "probe", "a.test", "--port", "70000"), 2);
    assert_int_equal(RUN(f, "probe", "a.test", "b.test"), 2);
    assert_int_equal(RUN(f, "--dns", "127.0.0.1:99999", "probe", "a.test"), 2);
    assert_non_null(strstr(f->res.err, "bad DNS server list"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_json_of_a_tls_peer),
        cmocka_unit_test(probe_text_of_a_plain_peer),
        cmocka_unit_test(probe_text_names_the_stack),
        cmocka_unit_test(probe_of_an_unreadable_certificate_time),
        cmocka_unit_test(timeout_option_bounds_the_probe),
        cmocka_unit_test(no_domain_and_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
