/* tls: the names of stacks, protocols and suites. The suite table is held
 * against OpenSSL's own IANA names, suite by suite. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/ssl.h>
#include <string.h>

#include "tls.h"

static void stack_names(void **state)
{
    (void)state;
    assert_string_equal(tls_stack_name(TLS_STACK_OPENSSL), "openssl");
    assert_string_equal(tls_stack_name(TLS_STACK_SCHANNEL), "schannel");
    assert_string_equal(tls_stack_name(TLS_STACK_NONE), "");
    assert_true(tls_stack_available(TLS_STACK_OPENSSL));
    assert_true(tls_stack_available(tls_system_stack()));
    assert_false(tls_stack_available(TLS_STACK_NONE));
}

/* The journal and the probe cache keep OpenSSL's spelling. */
static void protocol_names(void **state)
{
    (void)state;
    assert_string_equal(tls_protocol_name(TLS_PROTO_TLS10), "TLSv1");
    assert_string_equal(tls_protocol_name(TLS_PROTO_TLS11), "TLSv1.1");
    assert_string_equal(tls_protocol_name(TLS_PROTO_TLS12), "TLSv1.2");
    assert_string_equal(tls_protocol_name(TLS_PROTO_TLS13), "TLSv1.3");
    assert_string_equal(tls_protocol_name(TLS_PROTO_SSL3), "SSLv3");
    assert_string_equal(tls_protocol_name(TLS_PROTO_NONE), "");
}

/* Every suite OpenSSL knows by the same code has the same IANA name. */
static void suite_table_agrees_with_openssl(void **state)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    unsigned code, known = 0, compared = 0;
    (void)state;
    assert_non_null(ssl);
    for (code = 0; code <= 0xFFFF; code++) {
        const unsigned char bytes[2] = { (unsigned char)(code >> 8), (unsigned char)code };
        const char *ours = tls_suite_name(code);
        const SSL_CIPHER *c;
        if (!ours)
            continue;
        known++;
        assert_int_equal(tls_suite_code(ours), (int)code);
        c = SSL_CIPHER_find(ssl, bytes);
        if (!c)
            continue; /* compiled out of this OpenSSL (RC4, DSS) */
        assert_string_equal(ours, SSL_CIPHER_standard_name(c));
        compared++;
    }
    assert_true(known >= 40);
    assert_true(compared >= 30);
    assert_null(tls_suite_name(0x0000));
    assert_int_equal(tls_suite_code("ECDHE-RSA-AES128-GCM-SHA256"), -1); /* OpenSSL's name */
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

static void unavailable_stack_is_an_error(void **state)
{
    tls_client_options o;
    char err[200] = "";
    (void)state;
    memset(&o, 0, sizeof o);
    assert_null(tls_client_new(TLS_STACK_NONE, &o, err, sizeof err));
    assert_non_null(strstr(err, "not available"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stack_names),
        cmocka_unit_test(protocol_names),
        cmocka_unit_test(suite_table_agrees_with_openssl),
        cmocka_unit_test(unavailable_stack_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
