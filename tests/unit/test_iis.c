/* The IIS model and its MetaBase.xml reader: a hand-written fixture in the
 * real file's format (tests/fixtures/metabase/relay.xml), the look-ups the
 * router asks (local, alias, routed, wildcard, smart host, port), and
 * hostile input: truncated at every byte, huge values, entities, a
 * document type, wrong nesting, deep nesting, bad numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iis_model.h"
#include "iis_metabase.h"
#include "plat.h"
#include "trtest.h"

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/metabase/%s", TR_TEST_SOURCE_DIR, name);
    char *text = trtest_read_file(path, len);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

static iis_model *parse_text(const char *text, char *err, size_t errlen)
{
    return iis_metabase_parse(text, strlen(text), "test.xml", err, errlen);
}

static iis_model *relay_model(void)
{
    size_t len;
    char err[256] = "";
    char *text = fixture("relay.xml", &len);
    iis_model *m = iis_metabase_parse(text, len, "relay.xml", err, sizeof err);
    free(text);
    if (!m)
        fail_msg("%s", err);
    return m;
}

/* ---- what the fixture says ---------------------------------------------- */

static void reads_the_virtual_servers(void **state)
{
    iis_model *m = relay_model();
    assert_int_equal(m->origin, IIS_FROM_METABASE);
    assert_string_equal(m->where, "relay.xml");
    assert_int_equal(m->n_servers, 2);

    const iis_server *tls = iis_model_server(m, 1);
    assert_non_null(tls);
    assert_string_equal(tls->comment, "TLS Server");
    assert_int_equal(tls->state, IIS_STATE_STARTED);
    assert_string_equal(iis_state_name(tls->state), "started");
    assert_int_equal(tls->n_ports, 2);
    assert_int_equal(tls->ports[0], 25);
    assert_int_equal(tls->ports[1], 587);
    assert_true(iis_server_listens_on(tls, 587));
    assert_false(iis_server_listens_on(tls, 2525));
    assert_string_equal(tls->pickup_dir, "C:\\Inetpub\\mailroot\\Pickup");
    assert_string_equal(tls->drop_dir, "C:\\Inetpub\\mailroot\\Drop");
    /* Inherited from the service: the server sets none of these. */
    assert_string_equal(tls->fqdn, "relay01.corp.example");
    assert_string_equal(tls->default_domain, "relay01.corp.example");
    assert_int_equal(iis_server_remote_port(tls), 25);
    /* A smart host with SmartHostType 0 is not used for every message. */
    assert_string_equal(tls->smart_host, "[10.0.0.25]");
    assert_int_equal(tls->smart_host_type, IIS_SMART_HOST_NONE);
    assert_null(iis_server_smart_host_always(tls));
    assert_true(iis_server_requires_tls(tls));

    const iis_server *plain = iis_model_server(m, 2);
    assert_non_null(plain);
    assert_string_equal(plain->comment, "Plain TCP Server");
    assert_int_equal(plain->state, IIS_STATE_STOPPED);
    assert_true(iis_server_listens_on(plain, 2525));
    assert_false(iis_server_requires_tls(plain));
    assert_null(iis_model_server(m, 3));
    assert_null(iis_model_server(m, 0));

    /* The orphan domain entry (server 9) is left out, and said so. */
    assert_non_null(strstr(m->why, "1 entry left out"));
    assert_non_null(strstr(m->why, "/LM/SmtpSvc/9/Domain/orphan.example"));
    iis_model_free(m);
}

static void says_what_iis_does_with_each_domain(void **state)
{
    iis_model *m = relay_model();
    const iis_server *s = iis_model_server(m, 1);
    const iis_domain *d;

    assert_int_equal(iis_server_domain_kind(s, "relay01.corp.example", &d), IIS_DOMAIN_LOCAL);
    assert_non_null(d);
    assert_int_equal(iis_server_domain_kind(s, "corp.example", &d), IIS_DOMAIN_LOCAL);
    assert_true(d->route_action & IIS_ROUTE_ALIAS);
    /* A subdomain of a local domain is no local domain. */
    assert_int_equal(iis_server_domain_kind(s, "x.corp.example", &d), IIS_DOMAIN_UNLISTED);
    assert_null(d);

    char text[128];
    assert_int_equal(iis_server_domain_kind(s, "partner.example", &d), IIS_DOMAIN_ROUTED);
    iis_domain_route_text(d, text, sizeof text);
    assert_string_equal(text, "smart host [192.0.2.25]");
    /* RouteAction from a <Custom> child, in hexadecimal. */
    assert_int_equal(iis_server_domain_kind(s, "bank.example", &d), IIS_DOMAIN_ROUTED);
    iis_domain_route_text(d, text, sizeof text);
    assert_string_equal(text, "TLS required");
    /* The name is normalised: "Archive.Example." */
    assert_int_equal(iis_server_domain_kind(s, "archive.example", &d), IIS_DOMAIN_ROUTED);
    iis_domain_route_text(d, text, sizeof text);
    assert_string_equal(text, "dropped into a folder");

    /* *.legacy.example: its subdomains, and the domain itself (iis_model.h). */
    assert_int_equal(iis_server_domain_kind(s, "a.b.legacy.example", &d), IIS_DOMAIN_ROUTED);
    assert_string_equal(d->name, "*.legacy.example");
    assert_string_equal(d->route_host, "gw.legacy.example");
    assert_int_equal(iis_server_domain_kind(s, "legacy.example", NULL), IIS_DOMAIN_ROUTED);
    /* The exact entry beats the wildcard: relay only, no route. */
    assert_int_equal(iis_server_domain_kind(s, "open.legacy.example", &d), IIS_DOMAIN_REMOTE);
    assert_string_equal(d->name, "open.legacy.example");
    assert_int_equal(iis_server_domain_kind(s, "elsewhere.example", NULL), IIS_DOMAIN_UNLISTED);
    assert_int_equal(iis_server_domain_kind(s, "example", NULL), IIS_DOMAIN_UNLISTED);

    /* Server 2 has its own domains. */
    const iis_server *plain = iis_model_server(m, 2);
    assert_int_equal(iis_server_domain_kind(plain, "corp.example", NULL), IIS_DOMAIN_UNLISTED);
    assert_int_equal(iis_server_domain_kind(NULL, "corp.example", NULL), IIS_DOMAIN_UNLISTED);
    iis_model_free(m);
}

static void finds_a_server_by_its_pickup_folder(void **state)
{
    iis_model *m = relay_model();
    const iis_server *s = iis_model_server_by_pickup(m, "c:/inetpub/PLAIN/pickup/");
    assert_non_null(s);
    assert_int_equal(s->instance, 2);
    assert_null(iis_model_server_by_pickup(m, "C:\\Inetpub\\plain\\Drop"));
    iis_model_free(m);
}

#define SERVER_HEAD "<configuration><MBProperty>"
#define SERVER_TAIL "</MBProperty></configuration>"

static void smart_host_always_with_its_port_and_name(void **state)
{
    char err[256] = "";
    iis_model *m = parse_text(SERVER_HEAD
                              "<IIsSmtpService Location =\"/LM/SmtpSvc\" SmartHostType=\"2\""
                              " FullyQualifiedDomainName=\"svc.example\"/>"
                              "<IIsSmtpServer Location =\"/LM/SmtpSvc/3\""
                              " SmartHost=\"mail-gw.corp.example\" RemoteSmtpPort=\"0x9C4\""
                              " FullyQualifiedDomainName=\"out.corp.example\"/>"
                              "<IIsSmtpServer Location =\"/LM/SmtpSvc/4\"/>" SERVER_TAIL,
                              err, sizeof err);
    assert_non_null(m);
    const iis_server *s = iis_model_server(m, 3);
    assert_string_equal(iis_server_smart_host_always(s), "mail-gw.corp.example");
    assert_int_equal(iis_server_remote_port(s), 2500);
    assert_string_equal(s->fqdn, "out.corp.example");
    /* Server 4 inherits "always" but names no smart host: none. */
    s = iis_model_server(m, 4);
    assert_null(iis_server_smart_host_always(s));
    assert_int_equal(s->smart_host_type, IIS_SMART_HOST_NONE);
    assert_string_equal(s->fqdn, "svc.example");
    iis_model_free(m);
}

static void domain_entries_inherit_the_server_route_action(void **state)
{
    char err[256] = "";
    iis_model *m = parse_text(SERVER_HEAD
                              "<IIsSmtpServer Location =\"/LM/SmtpSvc/1\" RouteAction=\"4\"/>"
                              "<IIsSmtpDomain Location =\"/LM/SmtpSvc/1/Domain/quiet.example\"/>"
                              "<IIsSmtpDomain Location =\"/lm/smtpsvc/1/domain/own.example\""
                              " RouteAction=\"0\"/>" SERVER_TAIL,
                              err, sizeof err);
    assert_non_null(m);
    const iis_server *s = iis_model_server(m, 1);
    assert_int_equal(iis_server_domain_kind(s, "quiet.example", NULL), IIS_DOMAIN_ROUTED);
    assert_int_equal(iis_server_domain_kind(s, "own.example", NULL), IIS_DOMAIN_REMOTE);
    iis_model_free(m);
}

static void entities_and_custom_ids_are_understood(void **state)
{
    char err[256] = "";
    iis_model *m = parse_text(SERVER_HEAD
                              "<IIsSmtpServer Location=\"/LM/SmtpSvc/5\""
                              " ServerComment='Tom &amp; Jerry&#x27;s &#60;relay&gt; &#233;'>"
                              "<!-- a comment with <tags> inside -->"
                              "<Custom ID=\"36905\" Value=\"2\" Type=\"DWORD\"/>"
                              "<Custom Name=\"SmartHost\" Value=\" [127.0.0.1] \"/>"
                              "<Custom Name=\"Unknown\" Value=\"&amp;\"/>"
                              "</IIsSmtpServer>" SERVER_TAIL,
                              err, sizeof err);
    assert_non_null(m);
    const iis_server *s = iis_model_server(m, 5);
    assert_string_equal(s->comment, "Tom & Jerry's <relay> \xC3\xA9");
    assert_string_equal(iis_server_smart_host_always(s), "[127.0.0.1]");
    iis_model_free(m);
}

static void a_file_without_smtp_is_an_empty_model(void **state)
{
    char err[256] = "";
    iis_model *m = parse_text("<?xml version=\"1.0\"?>\n<configuration><MBProperty>"
                              "<IIsWebService Location=\"/LM/W3SVC\"/></MBProperty>"
                              "</configuration>\n",
                              err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->n_servers, 0);
    assert_string_equal(m->why, "test.xml has no SMTP virtual server");
    iis_model_free(m);
}

static void loads_a_file_and_says_when_there_is_none(void **state)
{
    char path[1024], err[256] = "";
    snprintf(path, sizeof path, "%s/tests/fixtures/metabase/relay.xml", TR_TEST_SOURCE_DIR);
    iis_model *m = iis_metabase_load(path, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->n_servers, 2);
    assert_string_equal(m->where, path);
    iis_model_free(m);
    snprintf(path, sizeof path, "%s/tests/fixtures/metabase/absent.xml", TR_TEST_SOURCE_DIR);
    assert_null(iis_metabase_load(path, err, sizeof err));
    assert_non_null(strstr(err, "absent.xml: no such file"));
}

/* ---- hostile input ------------------------------------------------------ */

static void refused(const char *text, const char *why)
{
    char err[256] = "";
    iis_model *m = parse_text(text, err, sizeof err);
    if (m) {
        iis_model_free(m);
        fail_msg("accepted: %.80s", text);
    }
    if (!strstr(err, why))
        fail_msg("error '%s' does not say '%s'", err, why);
}

static void every_truncation_is_refused(void **state)
{
    size_t len;
    char err[256];
    char *text = fixture("relay.xml", &len);
    const char *close = strstr(text, "</configuration>");
    assert_non_null(close);
    size_t complete = (size_t)(close - text) + strlen("</configuration>");
    for (size_t cut = 0; cut < complete; cut++) {
        iis_model *m = iis_metabase_parse(text, cut, "cut.xml", err, sizeof err);
        if (m) {
            iis_model_free(m);
            fail_msg("a file cut after %lu bytes was accepted", (unsigned long)cut);
        }
    }
    iis_model *m = iis_metabase_parse(text, complete, "whole.xml", err, sizeof err);
    assert_non_null(m);
    iis_model_free(m);
    free(text);
}

static void structure_errors_are_refused(void **state)
{
    refused("", "no XML element");
    refused("<a><b></a></b>", "</a> closes <b> (wrong nesting)");
    refused("<a></a><b/>", "a second top-level element <b>");
    refused("</a>", "closes nothing");
    refused("<a x=\"1\"", "not finished");
    refused("<a x=\"1></a>", "'<' inside the value");
    refused("<a x=1/>", "no quoted value");
    refused("<a x/>", "has no '='");
    refused("<a x=\"1\"y=\"2\"/>", "not separated");
    refused("<!DOCTYPE a [<!ENTITY e \"x\">]><a/>", "document type declaration");
    refused("<a><!-- open", "comment is not closed");
    refused("<a><![CDATA[ open", "CDATA is not closed");
    refused("<1a/>", "without a valid name");
    refused("<a>\n\n<b>", "line 3: <b> is not closed");
    char deep[40 * 3 + 1] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<a>");
    refused(deep, "nested deeper than 32");
    char name[200];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char text[300];
    snprintf(text, sizeof text, "<%s/>", name);
    refused(text, "longer than 64");
}

static void bad_values_are_refused_with_their_place(void **state)
{
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" ServerComment=\"&nbsp;\"/>"
                        SERVER_TAIL,
            "unknown entity '&nbsp;'");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" ServerComment=\"&#0;\"/>"
                        SERVER_TAIL,
            "unknown entity");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" ServerComment=\"a & b\"/>"
                        SERVER_TAIL,
            "starts no entity");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" RemoteSmtpPort=\"25a\"/>"
                        SERVER_TAIL,
            "RemoteSmtpPort of /LM/SmtpSvc/1 is not a number: '25a'");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" RemoteSmtpPort=\"70000\"/>"
                        SERVER_TAIL,
            "RemoteSmtpPort of /LM/SmtpSvc/1 is not a port");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" SmartHostType=\"0x\"/>"
                        SERVER_TAIL,
            "SmartHostType");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" RouteAction=\"99999999999\"/>"
                        SERVER_TAIL,
            "RouteAction");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" AlwaysUseSsl=\"yes\"/>"
                        SERVER_TAIL,
            "not TRUE or FALSE");
    refused(SERVER_HEAD "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" ServerBindings=\":x:\"/>"
                        SERVER_TAIL,
            "is not IP:PORT:HOST with a port");
    refused(SERVER_HEAD "<IIsSmtpDomain Location=\"/LM/SmtpSvc/1/Domain/a.example\""
                        " RouteAction=\"two\"/><IIsSmtpServer Location=\"/LM/SmtpSvc/1\"/>"
                        SERVER_TAIL,
            "RouteAction of /LM/SmtpSvc/1/Domain/a.example is not a number");
}

static void huge_values_are_bounded(void **state)
{
    size_t big = 1u << 20;
    char *text = malloc(big + 200);
    assert_non_null(text);
    /* A huge value of an attribute nobody reads costs nothing... */
    int n = snprintf(text, 200, "<configuration Other=\"");
    memset(text + n, 'x', big);
    strcpy(text + n + big, "\"><IIsSmtpServer Location=\"/LM/SmtpSvc/1\"/></configuration>");
    char err[256] = "";
    iis_model *m = iis_metabase_parse(text, strlen(text), "big.xml", err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->n_servers, 1);
    iis_model_free(m);
    /* ...one that is read is refused, not truncated. */
    n = snprintf(text, 200, "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" PickupDirectory=\"");
    memset(text + n, 'x', big);
    strcpy(text + n + big, "\"/>");
    assert_null(iis_metabase_parse(text, strlen(text), "big.xml", err, sizeof err));
    assert_non_null(strstr(err, "longer than 4096"));
    /* A path that fits the value but not the model. */
    n = snprintf(text, 200, "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\" PickupDirectory=\"");
    memset(text + n, 'x', 2000);
    strcpy(text + n + 2000, "\"/>");
    assert_null(iis_metabase_parse(text, strlen(text), "big.xml", err, sizeof err));
    assert_non_null(strstr(err, "PickupDirectory of /LM/SmtpSvc/1 is longer than 1023"));
    free(text);
    /* The whole file is capped before anything is read. */
    char *huge = malloc((size_t)IIS_METABASE_MAX_BYTES + 1);
    assert_non_null(huge);
    memset(huge, ' ', (size_t)IIS_METABASE_MAX_BYTES + 1);
    assert_null(iis_metabase_parse(huge, (size_t)IIS_METABASE_MAX_BYTES + 1, "huge.xml", err,
                                   sizeof err));
    assert_non_null(strstr(err, "larger than"));
    free(huge);
}

static void odd_but_harmless_input_is_read(void **state)
{
    char err[256] = "";
    /* A NUL outside any value, a stray '>' and '&' in text, a byte order
     * mark, an unknown Location under a known element, bad domain names. */
    static const char text[] =
        "\xEF\xBB\xBF<?xml version=\"1.0\"?><configuration> a > b & c "
        "<IIsSmtpServer Location=\"/LM/W3SVC/1\"/>"
        "<IIsSmtpServer Location=\"/LM/SmtpSvc/1\"/>"
        "<IIsSmtpDomain Location=\"/LM/SmtpSvc/1/Domain/bad_name.example\" RouteAction=\"16\"/>"
        "<IIsSmtpDomain Location=\"/LM/SmtpSvc/1/Domain/ok.example\" RouteAction=\"16\"/>"
        "<IIsSmtpDomain Location=\"/LM/SmtpSvc/1/Domain/OK.example\" RouteAction=\"2\"/>"
        "</configuration>";
    iis_model *m = iis_metabase_parse(text, sizeof text - 1, "odd.xml", err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->n_servers, 1);
    const iis_server *s = iis_model_server(m, 1);
    assert_int_equal(s->n_domains, 1);
    assert_int_equal(iis_server_domain_kind(s, "ok.example", NULL), IIS_DOMAIN_LOCAL);
    assert_non_null(strstr(m->why, "3 entries left out"));
    iis_model_free(m);
    static const char nul[] = "<configuration>\0</configuration>";
    m = iis_metabase_parse(nul, sizeof nul - 1, "nul.xml", err, sizeof err);
    assert_non_null(m);
    iis_model_free(m);
    static const char nul_value[] = "<IIsSmtpServer Location=\"/LM/Smtp\0Svc/1\"/>";
    assert_null(iis_metabase_parse(nul_value, sizeof nul_value - 1, "nul.xml", err, sizeof err));
    assert_non_null(strstr(err, "NUL byte"));
}

static void an_empty_model_says_why(void **state)
{
    iis_model *m = iis_model_empty("no IIS on %s", "this host");
    assert_non_null(m);
    assert_int_equal(m->origin, IIS_FROM_NOWHERE);
    assert_string_equal(m->why, "no IIS on this host");
    assert_null(iis_model_server(m, 1));
    assert_string_equal(iis_origin_name(m->origin), "none");
    iis_model_free(m);
    iis_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_virtual_servers),
        cmocka_unit_test(says_what_iis_does_with_each_domain),
        cmocka_unit_test(finds_a_server_by_its_pickup_folder),
        cmocka_unit_test(smart_host_always_with_its_port_and_name),
        cmocka_unit_test(domain_entries_inherit_the_server_route_action),
        cmocka_unit_test(entities_and_custom_ids_are_understood),
        cmocka_unit_test(a_file_without_smtp_is_an_empty_model),
        cmocka_unit_test(loads_a_file_and_says_when_there_is_none),
        cmocka_unit_test(every_truncation_is_refused),
        cmocka_unit_test(structure_errors_are_refused),
        cmocka_unit_test(bad_values_are_refused_with_their_place),
        cmocka_unit_test(huge_values_are_bounded),
        cmocka_unit_test(odd_but_harmless_input_is_read),
        cmocka_unit_test(an_empty_model_says_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
