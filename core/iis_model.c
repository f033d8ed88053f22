/* iis_model: the look-ups (see iis_model.h). Domain entries are kept sorted,
 * so a recipient domain costs one binary search per label, whatever the
 * number of entries. */
#include "iis_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathnorm.h"

iis_model *iis_model_empty(const char *why_fmt, ...)
{
    iis_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    va_list ap;
    va_start(ap, why_fmt);
    vsnprintf(m->why, sizeof m->why, why_fmt, ap);
    va_end(ap);
    return m;
}

void iis_model_free(iis_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_servers; i++)
        free(m->servers[i].domains);
    free(m->servers);
    free(m);
}

static int cmp_domain(const void *a, const void *b)
{
    return strcmp(((const iis_domain *)a)->name, ((const iis_domain *)b)->name);
}

int iis_model_add_server(iis_model *m, iis_server *s)
{
    iis_server *grown = realloc(m->servers, (m->n_servers + 1) * sizeof *grown);
    if (!grown)
        return -1;
    m->servers = grown;
    size_t at = m->n_servers;
    while (at > 0 && grown[at - 1].instance > s->instance) {
        grown[at] = grown[at - 1];
        at--;
    }
    if (s->n_domains > 1)
        qsort(s->domains, s->n_domains, sizeof *s->domains, cmp_domain);
    grown[at] = *s;
    m->n_servers++;
    s->domains = NULL;
    s->n_domains = 0;
    return 0;
}

const iis_server *iis_model_server(const iis_model *m, int instance)
{
    size_t lo = 0, hi = m ? m->n_servers : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->servers[mid].instance == instance)
            return &m->servers[mid];
        if (m->servers[mid].instance < instance)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const iis_domain *find_exact(const iis_server *s, const char *name)
{
    iis_domain key;
    if (strlen(name) >= sizeof key.name)
        return NULL;
    memcpy(key.name, name, strlen(name) + 1);
    return bsearch(&key, s->domains, s->n_domains, sizeof *s->domains, cmp_domain);
}

/* "*." + suffix, when it fits. */
static const iis_domain *find_wildcard(const iis_server *s, const char *suffix)
{
    char pattern[DOMAIN_BUF + 2];
    size_t n = strlen(suffix);
    if (n + 3 > sizeof pattern)
        return NULL;
    pattern[0] = '*';
    pattern[1] = '.';
    memcpy(pattern + 2, suffix, n + 1);
    return find_exact(s, pattern);
}

const iis_domain *iis_server_domain_entry(const iis_server *s, const char *domain)
{
    if (!s || !domain || !*domain)
        return NULL;
    const iis_domain *d = find_exact(s, domain);
    if (d)
        return d;
    /* The most specific wildcard first: *.domain itself (see iis_model.h), then
     * one label shorter at a time. */
    for (const char *suffix = domain; suffix; ) {
        if ((d = find_wildcard(s, suffix)) != NULL)
            return d;
        const char *dot = strchr(suffix, '.');
        suffix = dot ? dot + 1 : NULL;
    }
    return NULL;
}

int iis_domain_is_local(const iis_domain *d)
{
    return d && (d->route_action & (IIS_ROUTE_ALIAS | IIS_ROUTE_DEFAULT)) != 0;
}

int iis_domain_has_route(const iis_domain *d)
{
    return d && (d->route_action & (IIS_ROUTE_DROP | IIS_ROUTE_SMART_HOST | IIS_ROUTE_TLS)) != 0;
}

iis_domain_kind iis_server_domain_kind(const iis_server *s, const char *domain,
                                       const iis_domain **entry)
{
    const iis_domain *d = iis_server_domain_entry(s, domain);
    if (entry)
        *entry = d;
    if (iis_domain_is_local(d))
        return IIS_DOMAIN_LOCAL;
    /* The default domain is local even where the metabase lists no entry
     * for it (it is the virtual server's own). */
    if (s && s->default_domain[0] && domain && strcmp(s->default_domain, domain) == 0)
        return IIS_DOMAIN_LOCAL;
    if (iis_domain_has_route(d))
        return IIS_DOMAIN_ROUTED;
    return d ? IIS_DOMAIN_REMOTE : IIS_DOMAIN_UNLISTED;
}

static void append(char *buf, size_t len, size_t *used, const char *text)
{
    int w = snprintf(buf + *used, len - *used, "%s%s", *used ? ", " : "", text);
    if (w > 0)
        *used = (size_t)w >= len - *used ? len - 1 : *used + (size_t)w;
}

void iis_domain_route_text(const iis_domain *d, char *buf, size_t len)
{
    size_t used = 0;
    if (!len)
        return;
    buf[0] = '\0';
    if (!d)
        return;
    if (d->route_action & IIS_ROUTE_SMART_HOST) {
        char text[IIS_TEXT_MAX + 16];
        snprintf(text, sizeof text, "smart host %s",
                 d->route_host[0] ? d->route_host : "(not named)");
        append(buf, len, &used, text);
    }
    if (d->route_action & IIS_ROUTE_TLS)
        append(buf, len, &used, "TLS required");
    if (d->route_action & IIS_ROUTE_DROP)
        append(buf, len, &used, "dropped into a folder");
}

const char *iis_server_smart_host_always(const iis_server *s)
{
    if (s && s->smart_host_type == IIS_SMART_HOST_ALWAYS && s->smart_host[0])
        return s->smart_host;
    return NULL;
}

int iis_server_requires_tls(const iis_server *s)
{
    return s && ((s->route_action & IIS_ROUTE_TLS) != 0 || s->always_use_ssl);
}

unsigned iis_server_remote_port(const iis_server *s)
{
    return s && s->remote_port ? s->remote_port : 25;
}

int iis_server_listens_on(const iis_server *s, unsigned port)
{
    for (size_t i = 0; s && i < s->n_ports; i++)
        if (s->ports[i] == port)
            return 1;
    return 0;
}

int iis_server_add_binding(iis_server *s, const char *entry, size_t len)
{
    const char *c1 = memchr(entry, ':', len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - entry)) : NULL;
    unsigned long port = 0;
    const char *q;
    if (!c2 || c2 == c1 + 1 || c2 - c1 > 6)
        return -1;
    for (q = c1 + 1; q < c2 && *q >= '0' && *q <= '9'; q++)
        port = port * 10 + (unsigned long)(*q - '0');
    if (q != c2 || port == 0 || port > 65535)
        return -1;
    if (s->n_ports == IIS_MAX_PORTS)
        return 1;
    s->ports[s->n_ports++] = (unsigned)port;
    return 0;
}

const iis_server *iis_model_server_by_pickup(const iis_model *m, const char *dir)
{
    for (size_t i = 0; m && dir && i < m->n_servers; i++)
        if (m->servers[i].pickup_dir[0] &&
            pathnorm_same(m->servers[i].pickup_dir, dir, PATHNORM_WINDOWS))
            return &m->servers[i];
    return NULL;
}

const char *iis_state_name(iis_state s)
{
    static const char *const names[] = { "unknown", "starting", "started", "stopping",
                                         "stopped", "pausing",  "paused",  "continuing" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *iis_origin_name(iis_origin o)
{
    switch (o) {
    case IIS_FROM_ADSI: return "adsi";
    case IIS_FROM_METABASE: return "metabase";
    default: return "none";
    }
}
