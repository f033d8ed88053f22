/* The MTA-STS fetch keeps OpenSSL for TLS, but on Windows the server's
 * chain is judged by the Windows chain engine with the SSL policy and the
 * server's name, so the Windows stores count: a root from the Root store,
 * and an issuing CA found only in the CA store completing a chain the
 * server sent without it, which OpenSSL with a copy of the ROOT store could
 * not do. The tests' CA-file hook goes through the engine too (an engine
 * whose exclusive root is the file's CA).
 *
 * The tests put certificates into the current user's Root and CA stores of
 * the test prefix and take them out again. Wine's default engine reads the
 * stores once, when it is first used in a process, so they go in before
 * any chain is built here, and what must fail fails for a certificate never
 * stored. Wine's engine reads no Disallowed store and fetches no roots on
 * demand: those are Windows' part and not tested here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <wincrypt.h>

#include "certgen.h"
#include "https.h"
#include "plat.h"
#include "stsd.h"
#include "tls_trust.h"
#include "trtest.h"

#define STS_HOST "mta-sts.chain.test"

typedef struct {
    certgen_pair root, issuing, stray, leaf, stray_leaf, wrong_name, foreign_root, foreign_leaf;
    char dir[512], ca_file[600];
} fixture;

/* pair's certificate as a Windows context (not in any store). */
static PCCERT_CONTEXT context_of(const certgen_pair *pair)
{
    unsigned char *der = NULL;
    int len = i2d_X509(pair->cert, &der);
    PCCERT_CONTEXT c = len > 0 ? CertCreateCertificateContext(X509_ASN_ENCODING, der, (DWORD)len)
                               : NULL;
    OPENSSL_free(der);
    return c;
}

/* Add pair's certificate to one of the current user's system stores
 * (add 1) or take it out again (add 0); 0 on success. Committed at once,
 * so the registry holds what the stores say. */
static int change_store(const wchar_t *name, const certgen_pair *pair, int add)
{
    PCCERT_CONTEXT c = context_of(pair), found;
    HCERTSTORE store = CertOpenSystemStoreW(0, name);
    int ok = c && store;
    if (ok && add) {
        ok = CertAddCertificateContextToStore(store, c, CERT_STORE_ADD_REPLACE_EXISTING, NULL);
    } else if (ok) {
        found = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, c,
                                           NULL);
        ok = !found || CertDeleteCertificateFromStore(found);
    }
    ok = ok && CertControlStore(store, 0, CERT_STORE_CTRL_COMMIT, NULL);
    if (c)
        CertFreeCertificateContext(c);
    if (store)
        CertCloseStore(store, 0);
    return ok ? 0 : -1;
}

static int setup(void **state)
{
    static fixture f;
    int ok = trtest_temp_dir("stschain", f.dir, sizeof f.dir) == 0
             && trtest_join(f.ca_file, sizeof f.ca_file, f.dir, "root.pem") == 0
             && certgen_make_ca("TLS Router Test Root", &f.root) == 0
             && certgen_write_pem(&f.root, f.ca_file) == 0
             && certgen_make_intermediate("TLS Router Issuing CA", &f.root, &f.issuing) == 0
             && certgen_make_intermediate("TLS Router Stray CA", &f.root, &f.stray) == 0
             && certgen_make(STS_HOST, -3600, 86400, &f.issuing, &f.leaf) == 0
             && certgen_make(STS_HOST, -3600, 86400, &f.stray, &f.stray_leaf) == 0
             && certgen_make("mta-sts.other.test", -3600, 86400, &f.issuing, &f.wrong_name) == 0
             && certgen_make_ca("TLS Router Foreign Root", &f.foreign_root) == 0
             && certgen_make(STS_HOST, -3600, 86400, &f.foreign_root, &f.foreign_leaf) == 0
             && change_store(L"Root", &f.root, 1) == 0 && change_store(L"CA", &f.issuing, 1) == 0;
    *state = &f;
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    change_store(L"CA", &f->issuing, 0);
    change_store(L"Root", &f->root, 0);
    certgen_free(&f->foreign_leaf);
    certgen_free(&f->foreign_root);
    certgen_free(&f->wrong_name);
    certgen_free(&f->stray_leaf);
    certgen_free(&f->leaf);
    certgen_free(&f->stray);
    certgen_free(&f->issuing);
    certgen_free(&f->root);
    trtest_remove_tree(f->dir);
    return 0;
}

/* GET the policy from a server showing only cert; ca_file NULL: the
 * system's trust. */
static https_status fetch(const certgen_pair *cert, const char *ca_file, char *err, size_t len)
{
    https_request req;
    https_response resp;
    stsd *server = stsd_start(STSD_POLICY, cert, "version: STSv1\r\nmode: enforce\r\n");
    https_status st;
    assert_non_null(server);
    https_request_init(&req);
    req.host = STS_HOST;
    req.path = "/.well-known/mta-sts.txt";
    req.connect_ip = "127.0.0.1";
    req.port = stsd_port(server);
    req.ca_file = ca_file;
    req.deadline_ms = plat_now_ms() + 10000;
    st = https_get(&req, &resp);
    snprintf(err, len, "%s", resp.error);
    https_response_free(&resp);
    stsd_stop(server);
    return st;
}

static void judged_by_the_system_stores(void **state)
{
    fixture *f = *state;
    char err[HTTPS_ERR_MAX];
    assert_int_equal(fetch(&f->leaf, NULL, err, sizeof err), HTTPS_OK);
    assert_int_equal(fetch(&f->stray_leaf, NULL, err, sizeof err), HTTPS_ERR_TLS);
    assert_non_null(strstr(err, "is not valid: no chain to a trusted root"));
    assert_int_equal(fetch(&f->foreign_leaf, NULL, err, sizeof err), HTTPS_ERR_TLS);
    assert_non_null(strstr(err, "is not valid"));
    assert_int_equal(fetch(&f->wrong_name, NULL, err, sizeof err), HTTPS_ERR_TLS);
    assert_non_null(strstr(err, "hostname mismatch"));
}

/* The tests' hook: only the file's CA is a root, the stores still count
 * for intermediates. */
static void judged_with_the_tests_ca_file(void **state)
{
    fixture *f = *state;
    char err[HTTPS_ERR_MAX];
    assert_int_equal(fetch(&f->leaf, f->ca_file, err, sizeof err), HTTPS_OK);
    assert_int_equal(fetch(&f->stray_leaf, f->ca_file, err, sizeof err), HTTPS_ERR_TLS);
    assert_int_equal(fetch(&f->foreign_leaf, f->ca_file, err, sizeof err), HTTPS_ERR_TLS);
    assert_non_null(strstr(err, "is not valid"));
}

/* Every chain the tests make verifies under Wine. Before certgen signed
 * only with full-width r and s, about 1 chain in 60 was refused here as
 * "a signature of the chain is invalid", failing random tests. */
static void fresh_test_chains_always_verify(void **state)
{
    fixture *f = *state;
    char path[700], err[256], why[256] = "";
    int refused = 0;
    assert_int_equal(trtest_join(path, sizeof path, f->dir, "fresh-ca.pem"), 0);
    for (int i = 0; i < 200; i++) {
        certgen_pair ca, leaf;
        unsigned char *der = NULL;
        assert_int_equal(certgen_make_ca("Fresh CA", &ca), 0);
        assert_int_equal(certgen_make(STS_HOST, -3600, 86400, &ca, &leaf), 0);
        assert_int_equal(certgen_write_pem(&ca, path), 0);
        tls_trust *t = tls_trust_new(path, err, sizeof err);
        assert_non_null(t);
        int len = i2d_X509(leaf.cert, &der);
        tls_der chain = { der, (size_t)len };
        if (tls_trust_check(t, &chain, 1, TLS_CHECK_CHAIN | TLS_CHECK_TIME | TLS_CHECK_NAME,
                            STS_HOST, plat_now_ms() + 5000, why, sizeof why)
            != TLS_VERIFY_OK) {
            print_error("chain %d refused: %s\n", i, why);
            refused++;
        }
        OPENSSL_free(der);
        tls_trust_free(t);
        certgen_free(&leaf);
        certgen_free(&ca);
    }
    assert_int_equal(refused, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(judged_by_the_system_stores),
        cmocka_unit_test(judged_with_the_tests_ca_file),
        cmocka_unit_test(fresh_test_chains_always_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
