/* mtasts, https parsing and dane judging: the pure parts, byte by byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dane.h"
#include "https.h"
#include "mtasts.h"

/* ---- TXT record --------------------------------------------------------- */

static int txt(const char *rec, mtasts_txt *out, const char **why)
{
    return mtasts_txt_parse(rec, strlen(rec), out, why);
}

static void test_txt_valid(void **state)
{
    mtasts_txt t;
    const char *why = NULL;
    (void)state;
    assert_int_equal(txt("v=STSv1; id=20160831085700Z;", &t, &why), 0);
    assert_string_equal(t.id, "20160831085700Z");
    assert_int_equal(txt("v=STSv1;id=abc", &t, &why), 0);
    assert_string_equal(t.id, "abc");
    assert_int_equal(txt("v=STSv1 ;\tid=X1 ; ext_a-b.c=val!ue ;", &t, &why), 0);
    assert_string_equal(t.id, "X1");
    assert_int_equal(txt("v=STSv1; foo=bar; id=12345678901234567890123456789012", &t, &why), 0);
    assert_int_equal(strlen(t.id), 32);
}

static void assert_txt_refused(const char *rec, const char *reason)
{
    mtasts_txt t;
    const char *why = NULL;
    assert_int_equal(txt(rec, &t, &why), -1);
    assert_non_null(why);
    assert_string_equal(why, reason);
}

static void test_txt_refused(void **state)
{
    (void)state;
    assert_txt_refused("v=STSv2; id=1", "the TXT record does not start with v=STSv1");
    assert_txt_refused("v=stsv1; id=1", "the TXT record does not start with v=STSv1");
    assert_txt_refused("id=1; v=STSv1", "the TXT record does not start with v=STSv1");
    assert_txt_refused("v=STSv1", "the MTA-STS TXT record has no id");
    assert_txt_refused("v=STSv1;", "the MTA-STS TXT record has no id");
    assert_txt_refused("v=STSv1; id=", "the MTA-STS id must be 1 to 32 letters and digits");
    assert_txt_refused("v=STSv1; id=ab-c", "the MTA-STS id must be 1 to 32 letters and digits");
    assert_txt_refused("v=STSv1; id=123456789012345678901234567890123",
                       "the MTA-STS id must be 1 to 32 letters and digits");
    assert_txt_refused("v=STSv1; id=1; id=2", "the MTA-STS TXT record has two id fields");
    assert_txt_refused("v=STSv1 id=1",
                       "the fields of the MTA-STS TXT record must be separated by ';'");
    assert_txt_refused("v=STSv1; id=1 x=2",
                       "the fields of the MTA-STS TXT record must be separated by ';'");
    assert_txt_refused("v=STSv1; id=1; noequals", "a field of the MTA-STS TXT record has no '='");
    assert_txt_refused("v=STSv1; id=1; _x=1", "the MTA-STS TXT record has a malformed field");
    assert_txt_refused("v=STSv1; id=1; x==1", "the MTA-STS TXT record has a malformed field");
    assert_txt_refused("v=STSv1;; id=1", "the MTA-STS TXT record has an empty field");
}

static void test_txt_nul_inside(void **state)
{
    static const char rec[] = "v=STSv1; id=ab\0cd";
    mtasts_txt t;
    const char *why = NULL;
    (void)state;
    assert_int_equal(mtasts_txt_parse(rec, sizeof rec - 1, &t, &why), -1);
}

static void test_txt_select(void **state)
{
    char a[] = "v=spf1 -all", b[] = "v=STSv1; id=one", c[] = "v=STSv1; id=two",
         d[] = "v=STSv1x; id=three";
    char *one[] = { a, b, d };
    char *two[] = { b, c };
    char *none[] = { a, d };
    mtasts_txt t;
    const char *why = NULL;
    (void)state;
    assert_int_equal(mtasts_txt_select(one, 3, &t, &why), 0);
    assert_string_equal(t.id, "one");
    assert_int_equal(mtasts_txt_select(two, 2, &t, &why), -1);
    assert_string_equal(why, "more than one MTA-STS TXT record");
    assert_int_equal(mtasts_txt_select(none, 2, &t, &why), -1);
    assert_string_equal(why, "no TXT record starts with v=STSv1");
    assert_int_equal(mtasts_txt_select(NULL, 0, &t, &why), -1);
}

/* ---- policy file -------------------------------------------------------- */

static int policy(const char *text, mtasts_policy *p, const char **why, size_t *line)
{
    return mtasts_policy_parse(text, strlen(text), p, why, line);
}

static void test_policy_valid(void **state)
{
    mtasts_policy p;
    const char *why = NULL;
    size_t line = 99;
    (void)state;
    assert_int_equal(policy("version: STSv1\r\nmode: enforce\r\nmx: mail.Example.com.\r\n"
                            "mx: *.example.net\r\nmax_age: 604800\r\n", &p, &why, &line), 0);
    assert_int_equal(line, 0);
    assert_int_equal(p.mode, MTASTS_MODE_ENFORCE);
    assert_int_equal(p.max_age, 604800);
    assert_int_equal(p.mx_count, 2);
    assert_string_equal(p.mx[0], "mail.example.com");
    assert_string_equal(p.mx[1], "*.example.net");
    /* LF lines, no final newline, unknown keys, spaces around values. */
    assert_int_equal(policy("version:STSv1\nfuture_key: anything goes\nmode:   testing  \n"
                            "mx: mx.example.org\nmax_age: 99999999999", &p, &why, NULL), -1);
    assert_int_equal(policy("version:STSv1\nfuture_key: anything goes\nmode:   testing  \n"
                            "mx: mx.example.org\nmax_age: 9999999999", &p, &why, NULL), 0);
    assert_int_equal(p.mode, MTASTS_MODE_TESTING);
    assert_int_equal(p.max_age, MTASTS_MAX_AGE_LIMIT); /* capped to a year */
    /* mode none needs no mx. */
    assert_int_equal(policy("version: STSv1\nmode: none\nmax_age: 0\n\n", &p, &why, NULL), 0);
    assert_int_equal(p.mode, MTASTS_MODE_NONE);
    assert_int_equal(p.mx_count, 0);
}

static void assert_policy_refused(const char *text, size_t want_line, const char *reason)
{
    mtasts_policy p;
    const char *why = NULL;
    size_t line = 99;
    assert_int_equal(policy(text, &p, &why, &line), -1);
    assert_non_null(why);
    assert_string_equal(why, reason);
    assert_int_equal(line, want_line);
}

static void test_policy_refused(void **state)
{
    (void)state;
    assert_policy_refused("version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", 1,
                          "the policy needs exactly one line \"version: STSv1\"");
    assert_policy_refused("version: STSv1\nversion: STSv1\n", 2,
                          "the policy needs exactly one line \"version: STSv1\"");
    assert_policy_refused("version: STSv1\nmode: Enforce\n", 2,
                          "the policy needs exactly one mode: enforce, testing or none");
    assert_policy_refused("version: STSv1\nmode: enforce\nmode: none\n", 3,
                          "the policy needs exactly one mode: enforce, testing or none");
    assert_policy_refused("version: STSv1\nmax_age: -1\n", 2,
                          "the policy needs exactly one max_age of 1 to 10 digits");
    assert_policy_refused("version: STSv1\nmax_age: 12345678901\n", 2,
                          "the policy needs exactly one max_age of 1 to 10 digits");
    assert_policy_refused("version: STSv1\nmode: enforce\nmx: bad_host.example\n", 3,
                          "invalid character (only letters, digits, hyphens and dots)");
    assert_policy_refused("version: STSv1\nthis line has no colon\n", 2,
                          "a policy line is not \"key: value\"");
    assert_policy_refused("version: STSv1\n bad key: x\n", 2, "a policy line has a malformed key");
    assert_policy_refused("version: STSv1\nmode: enforce\nmax_age: 86400\n", 0,
                          "the policy has no mx line");
    assert_policy_refused("version: STSv1\nmode: enforce\nmx: a.example\n", 0,
                          "the policy lacks version, mode or max_age");
    assert_policy_refused("", 0, "the policy lacks version, mode or max_age");
    assert_policy_refused("version: STSv1\nmx: a\x01.example\n", 2,
                          "a policy line holds a control character");
}

static void test_policy_limits(void **state)
{
    mtasts_policy p;
    const char *why = NULL;
    size_t line;
    char *big = malloc(MTASTS_BODY_MAX + 2), text[4096];
    size_t n;
    (void)state;
    assert_non_null(big);
    memset(big, '\n', MTASTS_BODY_MAX + 1);
    assert_int_equal(mtasts_policy_parse(big, MTASTS_BODY_MAX + 1, &p, &why, &line), -1);
    assert_string_equal(why, "the policy is larger than 64 KB");
    free(big);
    n = (size_t)snprintf(text, sizeof text, "version: STSv1\nmode: enforce\nmax_age: 1\n");
    for (int i = 0; i <= MTASTS_MX_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "mx: mx%d.example\n", i);
    assert_int_equal(mtasts_policy_parse(text, n, &p, &why, &line), -1);
    assert_string_equal(why, "the policy has more than 32 mx lines");
    assert_int_equal(line, 4 + MTASTS_MX_MAX);
}

static void test_mx_allowed(void **state)
{
    mtasts_policy p;
    const char *why = NULL;
    char joined[1024];
    mtasts_policy back;
    (void)state;
    assert_int_equal(policy("version: STSv1\nmode: enforce\nmax_age: 1\n"
                            "mx: mail.example.com\nmx: *.example.net\n", &p, &why, NULL), 0);
    assert_true(mtasts_mx_allowed(&p, "mail.example.com"));
    assert_true(mtasts_mx_allowed(&p, "MAIL.example.com."));
    assert_false(mtasts_mx_allowed(&p, "x.mail.example.com"));
    assert_true(mtasts_mx_allowed(&p, "mx1.example.net"));
    assert_false(mtasts_mx_allowed(&p, "example.net"));
    assert_false(mtasts_mx_allowed(&p, "a.mx1.example.net")); /* one label only */
    assert_false(mtasts_mx_allowed(&p, "evilexample.net"));
    assert_false(mtasts_mx_allowed(&p, "bad host"));
    assert_int_equal(mtasts_mx_join(&p, joined, sizeof joined), 0);
    assert_string_equal(joined, "mail.example.com\n*.example.net");
    assert_int_equal(mtasts_mx_split(joined, &back), 0);
    assert_int_equal(back.mx_count, 2);
    assert_string_equal(back.mx[1], "*.example.net");
    assert_int_equal(mtasts_mx_join(&p, joined, 10), -1);
}

/* ---- HTTP head and chunked body ---------------------------------------- */

static void test_http_head(void **state)
{
    https_head h;
    const char *why = NULL;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: Text/Plain ; charset=utf-8\r\n"
                     "Content-Length: 12\r\n\r\nbody";
    (void)state;
    assert_int_equal(https_parse_head(ok, strlen(ok), &h, &why), (long)strlen(ok) - 4);
    assert_int_equal(h.code, 200);
    assert_int_equal(h.content_length, 12);
    assert_string_equal(h.content_type, "text/plain");
    assert_int_equal(https_parse_head(ok, 20, &h, &why), 0); /* needs more */
    assert_int_equal(https_parse_head("HTTP/1.0 301\n\n", 14, &h, &why), 14);
    assert_int_equal(h.code, 301);
    assert_int_equal(https_parse_head("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n", 44,
                                      &h, &why), 44);
    assert_true(h.chunked);
    assert_int_equal(https_parse_head("SSH-2.0-x\r\n\r\n", 13, &h, &why), -1);
    assert_string_equal(why, "the server did not answer with an HTTP/1.x status line");
    assert_int_equal(https_parse_head("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", 32, &h, &why), -1);
    assert_string_equal(why, "the server sent a malformed header line");
    assert_int_equal(https_parse_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                                      "Content-Length: 2\r\n\r\n", 57, &h, &why), -1);
    assert_string_equal(why, "the server sent a bad Content-Length");
    assert_int_equal(https_parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 44,
                                      &h, &why), -1);
    assert_string_equal(why, "the server used a transfer coding other than chunked");
}

static void test_chunked(void **state)
{
    const char *in = "4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
                     "Trailer: 1\r\n\r\nNEXT";
    char out[64];
    size_t used = 0, out_len = 0, total_used = 0;
    const char *why = NULL;
    https_chunked c;
    int rc = HTTPS_CHUNK_MORE;
    (void)state;
    /* One byte at a time: every state boundary is crossed between calls. */
    https_chunked_init(&c);
    for (size_t i = 0; i < strlen(in) && rc == HTTPS_CHUNK_MORE; i++) {
        rc = https_chunked_feed(&c, in + i, 1, &used, out, sizeof out, &out_len, &why);
        total_used += used;
    }
    assert_int_equal(rc, HTTPS_CHUNK_DONE);
    assert_int_equal(out_len, 23);
    assert_memory_equal(out, "Wikipedia in\r\n\r\nchunks.", 23);
    assert_int_equal(total_used, strlen(in) - 4);
    /* All at once, into too small a buffer. */
    https_chunked_init(&c);
    out_len = 0;
    assert_int_equal(https_chunked_feed(&c, in, strlen(in), &used, out, 8, &out_len, &why),
                     HTTPS_CHUNK_TOO_BIG);
    https_chunked_init(&c);
    out_len = 0;
    assert_int_equal(https_chunked_feed(&c, "zz\r\n", 4, &used, out, sizeof out, &out_len, &why),
                     HTTPS_CHUNK_ERROR);
    https_chunked_init(&c);
    assert_int_equal(https_chunked_feed(&c, "1000000000000000\r\n", 18, &used, out, sizeof out,
                                        &out_len, &why), HTTPS_CHUNK_ERROR);
    assert_string_equal(why, "a chunk size is too large");
    https_chunked_init(&c);
    assert_int_equal(https_chunked_feed(&c, "2\r\nabX", 6, &used, out, sizeof out, &out_len,
                                        &why), HTTPS_CHUNK_ERROR);
}

/* ---- DANE --------------------------------------------------------------- */

static void test_dane_judge(void **state)
{
    unsigned char sha256[32] = { 1 }, sha512[64] = { 2 };
    dns_tlsa recs[4] = {
        { 3, 1, 1, sizeof sha256, sha256 },  /* DANE-EE SPKI SHA-256: usable */
        { 1, 0, 1, sizeof sha256, sha256 },  /* PKIX-EE: not for SMTP */
        { 2, 0, 2, 32, sha512 },             /* SHA-512 with 32 bytes: bad */
        { 2, 0, 2, sizeof sha512, sha512 },  /* DANE-TA Cert SHA-512: usable */
    };
    dns_tlsa_list answer;
    dane_result r;
    (void)state;
    memset(&answer, 0, sizeof answer);
    answer.status = DNS_OK;
    answer.ad = 1;
    answer.records = recs;
    answer.count = 4;
    dane_judge(&answer, 1, &r);
    assert_true(r.applies);
    assert_true(r.mx_validated);
    assert_int_equal(r.usable, 2);
    assert_false(dane_only_mx_insecure(&r));
    /* The same TLSA answer under an MX RRset that is not validated
     * (RFC 7672 2.2). */
    dane_judge(&answer, 0, &r);
    assert_false(r.applies);
    assert_false(r.mx_validated);
    assert_true(r.validated);
    assert_true(dane_only_mx_insecure(&r));
    assert_non_null(strstr(r.detail, "MX records are not validated"));
    answer.ad = 0;
    dane_judge(&answer, 1, &r);
    assert_false(r.applies);
    assert_false(r.validated);
    assert_false(dane_only_mx_insecure(&r));
    answer.ad = 1;
    answer.records = recs + 1;
    answer.count = 2;
    dane_judge(&answer, 1, &r);
    assert_false(r.applies);
    assert_int_equal(r.usable, 0);
    dane_judge(&answer, 0, &r);
    assert_false(dane_only_mx_insecure(&r)); /* nothing usable either way */
    answer.status = DNS_NXDOMAIN;
    dane_judge(&answer, 1, &r);
    assert_false(r.applies);
    assert_true(dane_record_usable(&recs[0]));
    assert_false(dane_record_usable(&recs[1]));
    assert_false(dane_record_usable(&recs[2]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txt_valid),     cmocka_unit_test(test_txt_refused),
        cmocka_unit_test(test_txt_nul_inside), cmocka_unit_test(test_txt_select),
        cmocka_unit_test(test_policy_valid),  cmocka_unit_test(test_policy_refused),
        cmocka_unit_test(test_policy_limits), cmocka_unit_test(test_mx_allowed),
        cmocka_unit_test(test_http_head),     cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_dane_judge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
