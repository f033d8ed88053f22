/* Fuzz the MetaBase.xml reader: any bytes either give a model or an
 * error, never both; a model's servers are sorted and unique, their
 * fields bounded and terminated, their domain entries sorted, normalised
 * and found again by the look-up the router uses. */
#include "fuzz.h"

#include "iis_metabase.h"

static void check_server(const iis_server *s)
{
    FUZZ_CHECK(s->instance > 0);
    FUZZ_CHECK(strlen(s->comment) < sizeof s->comment);
    FUZZ_CHECK(strlen(s->pickup_dir) < sizeof s->pickup_dir);
    FUZZ_CHECK(s->n_ports <= IIS_MAX_PORTS);
    for (size_t p = 0; p < s->n_ports; p++)
        FUZZ_CHECK(s->ports[p] >= 1 && s->ports[p] <= 65535);
    FUZZ_CHECK(iis_server_remote_port(s) >= 1 && iis_server_remote_port(s) <= 65535);
    FUZZ_CHECK(s->smart_host_type != IIS_SMART_HOST_ALWAYS || s->smart_host[0]);
    for (size_t d = 0; d < s->n_domains; d++) {
        const iis_domain *dom = &s->domains[d];
        FUZZ_CHECK(dom->name[0] != '\0' && strlen(dom->name) <= DOMAIN_MAX + 2);
        FUZZ_CHECK(d == 0 || strcmp(s->domains[d - 1].name, dom->name) < 0);
        if (dom->name[0] != '*')
            FUZZ_CHECK(iis_server_domain_entry(s, dom->name) == dom);
        else
            FUZZ_CHECK(iis_server_domain_entry(s, dom->name + 2) != NULL);
        char text[128];
        iis_domain_route_text(dom, text, sizeof text);
        FUZZ_CHECK(strlen(text) < sizeof text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    iis_model *m = iis_metabase_parse((const char *)data, size, "fuzz.xml", err, sizeof err);
    if (!m) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(m->origin == IIS_FROM_METABASE);
    for (size_t i = 0; i < m->n_servers; i++) {
        FUZZ_CHECK(i == 0 || m->servers[i - 1].instance < m->servers[i].instance);
        FUZZ_CHECK(iis_model_server(m, m->servers[i].instance) == &m->servers[i]);
        check_server(&m->servers[i]);
    }
    iis_model_free(m);
    return 0;
}
