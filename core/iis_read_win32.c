/* iis_read (Windows): ADSI first, MetaBase.xml when ADSI cannot answer.
 *
 * ADSI's IIS provider reports a property the object inherits (from the
 * SMTP service, or a domain entry's RouteAction from its server) as the
 * object's own, which is what IIS itself applies; the MetaBase.xml reader
 * applies the same inheritance. */
#define COBJMACROS
#include "iis_read.h"

#include <windows.h>
#include <ole2.h>
#include <activeds.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iis_metabase.h"

#define ADSI_ROOT L"IIS://localhost/SMTPSVC"

/* ---- one property ---------------------------------------------------------- */

/* IADs::Get of name as the wanted type; 0, or -1 when the object does not
 * have it (or it cannot be had as that type). */
static int get_variant(IADs *ads, const wchar_t *name, VARTYPE type, VARIANT *out)
{
    BSTR prop = SysAllocString(name);
    HRESULT hr = prop ? IADs_Get(ads, prop, out) : E_OUTOFMEMORY;
    SysFreeString(prop);
    if (FAILED(hr))
        return -1;
    if (V_VT(out) != type && FAILED(VariantChangeType(out, out, 0, type))) {
        VariantClear(out);
        return -1;
    }
    return 0;
}

static void utf8_of(const wchar_t *w, char *buf, size_t len)
{
    if (!w || WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)len, NULL, NULL) <= 0)
        buf[0] = '\0';
}

static void get_text(IADs *ads, const wchar_t *name, char *buf, size_t len)
{
    VARIANT v;
    VariantInit(&v);
    buf[0] = '\0';
    if (get_variant(ads, name, VT_BSTR, &v) == 0) {
        utf8_of(V_BSTR(&v), buf, len);
        VariantClear(&v);
    }
}

static int get_number(IADs *ads, const wchar_t *name, unsigned *out)
{
    VARIANT v;
    VariantInit(&v);
    if (get_variant(ads, name, VT_UI4, &v) != 0)
        return -1;
    *out = (unsigned)V_UI4(&v);
    VariantClear(&v);
    return 0;
}

static void get_flag(IADs *ads, const wchar_t *name, int *out)
{
    VARIANT v;
    VariantInit(&v);
    if (get_variant(ads, name, VT_BOOL, &v) == 0) {
        *out = V_BOOL(&v) != VARIANT_FALSE;
        VariantClear(&v);
    }
}

static void add_binding(iis_server *s, const wchar_t *entry)
{
    char text[128];
    utf8_of(entry, text, sizeof text);
    iis_server_add_binding(s, text, strlen(text));
}

/* ServerBindings: a multi-string, an array of strings through ADSI. */
static void get_bindings(IADs *ads, iis_server *s)
{
    VARIANT v, item;
    BSTR prop = SysAllocString(L"ServerBindings");
    VariantInit(&v);
    if (!prop || FAILED(IADs_Get(ads, prop, &v))) {
        SysFreeString(prop);
        return;
    }
    SysFreeString(prop);
    if (V_VT(&v) == VT_BSTR) {
        add_binding(s, V_BSTR(&v));
    } else if ((V_VT(&v) & VT_ARRAY) && V_ARRAY(&v)) {
        LONG lo = 0, hi = -1;
        SafeArrayGetLBound(V_ARRAY(&v), 1, &lo);
        SafeArrayGetUBound(V_ARRAY(&v), 1, &hi);
        for (LONG i = lo; i <= hi; i++) {
            VariantInit(&item);
            if (SUCCEEDED(SafeArrayGetElement(V_ARRAY(&v), &i, &item)) &&
                SUCCEEDED(VariantChangeType(&item, &item, 0, VT_BSTR)))
                add_binding(s, V_BSTR(&item));
            VariantClear(&item);
        }
    }
    VariantClear(&v);
}

/* ---- containers ------------------------------------------------------------- */

typedef int (*child_fn)(IADs *child, const wchar_t *cls, const wchar_t *name, void *ctx);

/* Calls fn for each child of the container at path; -1 when the
 * container cannot be opened (hr in *hr_out). */
static int each_child(const wchar_t *path, child_fn fn, void *ctx, HRESULT *hr_out)
{
    IADsContainer *box = NULL;
    IEnumVARIANT *en = NULL;
    HRESULT hr = ADsGetObject(path, &IID_IADsContainer, (void **)&box);
    if (hr_out)
        *hr_out = hr;
    if (FAILED(hr) || !box)
        return -1;
    int rc = 0;
    if (SUCCEEDED(ADsBuildEnumerator(box, &en))) {
        VARIANT v;
        ULONG fetched = 0;
        VariantInit(&v);
        while (rc == 0 && SUCCEEDED(ADsEnumerateNext(en, 1, &v, &fetched)) && fetched == 1) {
            IADs *child = NULL;
            BSTR cls = NULL, name = NULL;
            if (V_VT(&v) == VT_DISPATCH && V_DISPATCH(&v) &&
                SUCCEEDED(IDispatch_QueryInterface(V_DISPATCH(&v), &IID_IADs, (void **)&child)) &&
                SUCCEEDED(IADs_get_Class(child, &cls)) && cls &&
                SUCCEEDED(IADs_get_Name(child, &name)) && name)
                rc = fn(child, cls, name, ctx);
            SysFreeString(cls);
            SysFreeString(name);
            if (child)
                IADs_Release(child);
            VariantClear(&v);
        }
        ADsFreeEnumerator(en);
    }
    IADsContainer_Release(box);
    return rc;
}

static int take_domain(IADs *child, const wchar_t *cls, const wchar_t *name, void *ctx)
{
    iis_server *s = ctx;
    iis_domain d;
    char text[DOMAIN_BUF * 2];
    const char *why;
    if (_wcsicmp(cls, L"IIsSmtpDomain") != 0)
        return 0;
    memset(&d, 0, sizeof d);
    utf8_of(name, text, sizeof text);
    if (domain_pattern_normalize(text, d.name, &why) != 0)
        return 0; /* not a name IIS can be asked about by a recipient */
    get_number(child, L"RouteAction", &d.route_action);
    get_text(child, L"RouteActionString", d.route_host, sizeof d.route_host);
    iis_domain *grown = realloc(s->domains, (s->n_domains + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->domains = grown;
    s->domains[s->n_domains++] = d;
    return 0;
}

static void read_server_props(IADs *ads, iis_server *s)
{
    unsigned n;
    char text[DOMAIN_BUF * 2];
    const char *why;
    get_text(ads, L"ServerComment", s->comment, sizeof s->comment);
    if (get_number(ads, L"ServerState", &n) == 0 && n <= IIS_STATE_CONTINUING)
        s->state = (iis_state)n;
    get_bindings(ads, s);
    get_text(ads, L"FullyQualifiedDomainName", s->fqdn, sizeof s->fqdn);
    get_text(ads, L"DefaultDomain", text, sizeof text);
    if (text[0] && domain_normalize(text, s->default_domain, &why) != 0)
        s->default_domain[0] = '\0';
    if (get_number(ads, L"RemoteSmtpPort", &n) == 0 && n >= 1 && n <= 65535)
        s->remote_port = n;
    get_text(ads, L"SmartHost", s->smart_host, sizeof s->smart_host);
    if (get_number(ads, L"SmartHostType", &n) == 0 && n <= IIS_SMART_HOST_ALWAYS)
        s->smart_host_type = (iis_smart_host_type)n;
    if (!s->smart_host[0])
        s->smart_host_type = IIS_SMART_HOST_NONE;
    get_number(ads, L"RouteAction", &s->route_action);
    get_flag(ads, L"AlwaysUseSsl", &s->always_use_ssl);
    get_text(ads, L"PickupDirectory", s->pickup_dir, sizeof s->pickup_dir);
    get_text(ads, L"DropDirectory", s->drop_dir, sizeof s->drop_dir);
}

static int take_server(IADs *child, const wchar_t *cls, const wchar_t *name, void *ctx)
{
    iis_model *m = ctx;
    iis_server s;
    wchar_t path[96];
    wchar_t *end;
    long instance = wcstol(name, &end, 10);
    if (_wcsicmp(cls, L"IIsSmtpServer") != 0 || end == name || *end || instance < 1 ||
        instance > 100000000 || iis_model_server(m, (int)instance))
        return 0;
    memset(&s, 0, sizeof s);
    s.instance = (int)instance;
    s.remote_port = 25;
    read_server_props(child, &s);
    _snwprintf(path, 95, ADSI_ROOT L"/%ld/Domain", instance);
    path[95] = 0;
    /* A server without a Domain node has no entries; a failure inside
     * the walk is memory running out. */
    HRESULT hr;
    int rc = each_child(path, take_domain, &s, &hr) != 0 && SUCCEEDED(hr) ? -1 : 0;
    if (rc == 0 && iis_model_add_server(m, &s) != 0)
        rc = -1;
    free(s.domains);
    return rc;
}

/* 0 with *out; -1 when ADSI cannot answer (why in err). */
static int read_adsi(iis_model **out, char *err, size_t errlen)
{
    HRESULT hr;
    iis_model *m = iis_model_empty("%s", "");
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = each_child(ADSI_ROOT, take_server, m, &hr);
    if (rc != 0) {
        if (FAILED(hr))
            snprintf(err, errlen, "ADSI cannot open IIS://localhost/SMTPSVC (0x%08lx)",
                     (unsigned long)hr);
        else
            snprintf(err, errlen, "ADSI: out of memory");
        iis_model_free(m);
        return -1;
    }
    m->origin = IIS_FROM_ADSI;
    snprintf(m->where, sizeof m->where, "IIS://localhost/SMTPSVC");
    if (m->n_servers == 0)
        snprintf(m->why, sizeof m->why, "IIS reports no SMTP virtual server");
    *out = m;
    return 0;
}

/* ---- the two sources ---------------------------------------------------------- */

void iis_metabase_path(char *buf, size_t len)
{
    wchar_t dir[MAX_PATH];
    char windir[MAX_PATH * 3];
    UINT n = GetSystemWindowsDirectoryW(dir, MAX_PATH);
    if (len)
        buf[0] = '\0';
    if (n == 0 || n >= MAX_PATH)
        return;
    utf8_of(dir, windir, sizeof windir);
    if (windir[0])
        snprintf(buf, len, "%s\\system32\\inetsrv\\MetaBase.xml", windir);
}

static int file_exists(const char *path)
{
    wchar_t w[MAX_PATH * 2];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, MAX_PATH * 2))
        return 0;
    return GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;
}

static iis_read_status from_metabase(const char *adsi_err, iis_model **out)
{
    char path[PLAT_PATH_MAX], err[256];
    iis_metabase_path(path, sizeof path);
    if (!path[0] || !file_exists(path)) {
        *out = iis_model_empty("IIS SMTP cannot be read: %.120s; and %.100s does not exist",
                               adsi_err, path[0] ? path : "MetaBase.xml");
        return *out ? IIS_READ_NOTHING : IIS_READ_FAILED;
    }
    if ((*out = iis_metabase_load(path, err, sizeof err)) != NULL)
        return IIS_READ_OK;
    *out = iis_model_empty("IIS SMTP cannot be read: %.100s; %.140s", adsi_err, err);
    return IIS_READ_FAILED;
}

iis_read_status iis_read_system(iis_model **out)
{
    char adsi_err[160];
    /* S_FALSE: COM already up on this thread; RPC_E_CHANGED_MODE: up in
     * the other model, usable as it is. Only our own start is undone. */
    HRESULT com = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    int rc = read_adsi(out, adsi_err, sizeof adsi_err);
    if (SUCCEEDED(com))
        CoUninitialize();
    return rc == 0 ? IIS_READ_OK : from_metabase(adsi_err, out);
}
