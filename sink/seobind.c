/* seobind: SEO bindings by late binding (IDispatch), as smtpreg.vbs. */
#ifndef COBJMACROS
#define COBJMACROS
#endif
#include "seobind.h"

#include <ole2.h>
#include <oleauto.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define SEOBIND_MAX_ARGS 4
/* Bindings of one event on one source we look at; SEO keeps a handful. */
#define SEOBIND_MAX_ITEMS 1000

typedef struct {
    char *err;
    size_t errlen;
} seo_ctx;

static int seo_fail(seo_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int seo_fail_hr(seo_ctx *c, const char *what, HRESULT hr, const EXCEPINFO *ei)
{
    char desc[256] = "";
    if (ei && ei->bstrDescription)
        WideCharToMultiByte(CP_UTF8, 0, ei->bstrDescription, -1, desc, sizeof desc, NULL, NULL);
    return seo_fail(c, "%s failed (HRESULT 0x%08lX)%s%s", what, (unsigned long)hr, desc[0] ? ": " : "",
                    desc);
}

static VARIANT v_str(const wchar_t *s)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(s);
    return v;
}

static VARIANT v_i4(LONG n)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_I4;
    V_I4(&v) = n;
    return v;
}

static VARIANT v_bool(int b)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_BOOL;
    V_BOOL(&v) = b ? VARIANT_TRUE : VARIANT_FALSE;
    return v;
}

static void clear_args(VARIANT *args, UINT n)
{
    for (UINT i = 0; i < n; i++)
        VariantClear(&args[i]);
}

/* obj.name(args...) with args in written order; result may be NULL.
 * DISPID_VALUE / DISPID_NEWENUM can be given as name NULL with id. */
static HRESULT invoke(IDispatch *obj, const wchar_t *name, DISPID id, WORD flags, VARIANT *args,
                      UINT nargs, VARIANT *result, seo_ctx *c, const char *what)
{
    VARIANT reversed[SEOBIND_MAX_ARGS];
    DISPID put = DISPID_PROPERTYPUT;
    DISPPARAMS params = { reversed, NULL, nargs, 0 };
    EXCEPINFO ei;
    HRESULT hr;

    if (nargs > SEOBIND_MAX_ARGS)
        return E_INVALIDARG;
    if (name) {
        LPOLESTR names[1] = { (LPOLESTR)name };
        hr = IDispatch_GetIDsOfNames(obj, &IID_NULL, names, 1, LOCALE_USER_DEFAULT, &id);
        if (FAILED(hr)) {
            seo_fail_hr(c, what, hr, NULL);
            return hr;
        }
    }
    for (UINT i = 0; i < nargs; i++)
        reversed[i] = args[nargs - 1 - i]; /* IDispatch takes them last first */
    if (flags == DISPATCH_PROPERTYPUT) {
        params.rgdispidNamedArgs = &put;
        params.cNamedArgs = 1;
    }
    if (result)
        VariantInit(result);
    memset(&ei, 0, sizeof ei);
    hr = IDispatch_Invoke(obj, id, &IID_NULL, LOCALE_USER_DEFAULT, flags, &params, result, &ei, NULL);
    if (FAILED(hr))
        seo_fail_hr(c, what, hr, &ei);
    SysFreeString(ei.bstrSource);
    SysFreeString(ei.bstrDescription);
    SysFreeString(ei.bstrHelpFile);
    return hr;
}

#define GET (DISPATCH_METHOD | DISPATCH_PROPERTYGET)

/* An object-valued member. S_FALSE with *out NULL when it is Nothing. */
static HRESULT get_object(IDispatch *obj, const wchar_t *name, VARIANT *args, UINT nargs,
                          IDispatch **out, seo_ctx *c, const char *what)
{
    VARIANT r;
    HRESULT hr = invoke(obj, name, DISPID_VALUE, GET, args, nargs, &r, c, what);
    *out = NULL;
    if (FAILED(hr))
        return hr;
    if ((V_VT(&r) == VT_DISPATCH || V_VT(&r) == VT_UNKNOWN) && V_UNKNOWN(&r)) {
        hr = IUnknown_QueryInterface(V_UNKNOWN(&r), &IID_IDispatch, (void **)out);
        if (FAILED(hr))
            seo_fail_hr(c, what, hr, NULL);
    } else if (V_VT(&r) == VT_EMPTY || V_VT(&r) == VT_NULL || V_VT(&r) == VT_DISPATCH) {
        hr = S_FALSE;
    } else {
        hr = DISP_E_TYPEMISMATCH;
        seo_fail_hr(c, what, hr, NULL);
    }
    VariantClear(&r);
    return hr;
}

/* A string-valued member, as text (booleans as True/False like VBScript). */
static HRESULT get_text(IDispatch *obj, const wchar_t *name, VARIANT *args, UINT nargs, BSTR *out,
                        seo_ctx *c, const char *what)
{
    VARIANT r;
    HRESULT hr = invoke(obj, name, DISPID_VALUE, GET, args, nargs, &r, c, what);
    *out = NULL;
    if (FAILED(hr))
        return hr;
    hr = VariantChangeType(&r, &r, VARIANT_ALPHABOOL, VT_BSTR);
    if (SUCCEEDED(hr)) {
        *out = V_BSTR(&r);
        V_VT(&r) = VT_EMPTY;
    } else {
        seo_fail_hr(c, what, hr, NULL);
    }
    VariantClear(&r);
    return hr;
}

static HRESULT put_value(IDispatch *obj, const wchar_t *name, VARIANT value, seo_ctx *c,
                         const char *what)
{
    HRESULT hr = invoke(obj, name, DISPID_VALUE, DISPATCH_PROPERTYPUT, &value, 1, NULL, c, what);
    VariantClear(&value);
    return hr;
}

static HRESULT create_object(const wchar_t *progid, IDispatch **out, seo_ctx *c)
{
    CLSID clsid;
    char name[64];
    HRESULT hr = CLSIDFromProgID(progid, &clsid);
    WideCharToMultiByte(CP_UTF8, 0, progid, -1, name, sizeof name, NULL, NULL);
    *out = NULL;
    if (FAILED(hr)) {
        seo_fail(c, "%s is not registered (HRESULT 0x%08lX): is the IIS SMTP service installed?", name,
                 (unsigned long)hr);
        return hr;
    }
    hr = CoCreateInstance(&clsid, NULL, CLSCTX_INPROC_SERVER | CLSCTX_LOCAL_SERVER, &IID_IDispatch,
                          (void **)out);
    if (FAILED(hr))
        seo_fail(c, "creating %s failed (HRESULT 0x%08lX)", name, (unsigned long)hr);
    return hr;
}

typedef int (*item_fn)(VARIANT *item, void *arg, seo_ctx *c);

/* For Each item In collection (through its _NewEnum). */
static int for_each(IDispatch *collection, item_fn fn, void *arg, seo_ctx *c, const char *what)
{
    VARIANT r, item;
    IEnumVARIANT *items = NULL;
    HRESULT hr = invoke(collection, NULL, DISPID_NEWENUM, GET, NULL, 0, &r, c, what);
    int rc = 0, count = 0;
    if (FAILED(hr))
        return -1;
    if ((V_VT(&r) == VT_UNKNOWN || V_VT(&r) == VT_DISPATCH) && V_UNKNOWN(&r))
        hr = IUnknown_QueryInterface(V_UNKNOWN(&r), &IID_IEnumVARIANT, (void **)&items);
    else
        hr = DISP_E_TYPEMISMATCH;
    VariantClear(&r);
    if (FAILED(hr))
        return seo_fail_hr(c, what, hr, NULL);
    VariantInit(&item);
    while (rc == 0 && count++ < SEOBIND_MAX_ITEMS && IEnumVARIANT_Next(items, 1, &item, NULL) == S_OK) {
        rc = fn(&item, arg, c);
        VariantClear(&item);
    }
    IEnumVARIANT_Release(items);
    return rc;
}

static IDispatch *item_object(VARIANT *item)
{
    IDispatch *d = NULL;
    if ((V_VT(item) == VT_DISPATCH || V_VT(item) == VT_UNKNOWN) && V_UNKNOWN(item))
        IUnknown_QueryInterface(V_UNKNOWN(item), &IID_IDispatch, (void **)&d);
    return d;
}

/* Event.Manager.SourceTypes(SMTP).Sources: the SMTP event sources. */
static int open_sources(IDispatch *manager, IDispatch **sources, seo_ctx *c)
{
    IDispatch *types = NULL, *type = NULL;
    VARIANT arg = v_str(SEOBIND_SMTP_SOURCE_TYPE);
    HRESULT hr = get_object(manager, L"SourceTypes", NULL, 0, &types, c, "Event.Manager.SourceTypes");
    *sources = NULL;
    if (hr == S_OK)
        hr = get_object(types, L"Item", &arg, 1, &type, c, "SourceTypes(SMTP)");
    if (hr == S_FALSE)
        seo_fail(c, "no SMTP event source type is registered: is the IIS SMTP service installed?");
    if (hr == S_OK)
        hr = get_object(type, L"Sources", NULL, 0, sources, c, "SourceType.Sources");
    VariantClear(&arg);
    if (types)
        IDispatch_Release(types);
    if (type)
        IDispatch_Release(type);
    return hr == S_OK ? 0 : -1;
}

/* The OnArrival bindings of one event source. */
static int source_bindings(IDispatch *source, IDispatch **bindings, seo_ctx *c)
{
    IDispatch *manager = NULL;
    VARIANT arg = v_str(SEOBIND_ONARRIVAL);
    HRESULT hr = get_object(source, L"GetBindingManager", NULL, 0, &manager, c,
                            "Source.GetBindingManager");
    *bindings = NULL;
    if (hr == S_OK)
        hr = get_object(manager, L"Bindings", &arg, 1, bindings, c, "BindingManager.Bindings(OnArrival)");
    if (hr == S_FALSE)
        seo_fail(c, "the event source has no OnArrival bindings collection");
    VariantClear(&arg);
    if (manager)
        IDispatch_Release(manager);
    return hr == S_OK ? 0 : -1;
}

/* Source.Bindings(OnArrival) for SMTP virtual server instance. */
static int open_instance_bindings(int instance, IDispatch **bindings, seo_ctx *c)
{
    IDispatch *util = NULL, *manager = NULL, *sources = NULL, *source = NULL;
    VARIANT args[2], guid;
    int rc = -1;
    *bindings = NULL;
    VariantInit(&guid);
    if (instance < 1)
        return seo_fail(c, "virtual server instance must be 1 or more");
    if (FAILED(create_object(L"Event.Util", &util, c)) ||
        FAILED(create_object(L"Event.Manager", &manager, c)))
        goto done;
    args[0] = v_str(SEOBIND_SMTP_SOURCE_BASE);
    args[1] = v_i4(instance);
    if (FAILED(invoke(util, L"GetIndexedGUID", DISPID_VALUE, GET, args, 2, &guid, c,
                      "Event.Util.GetIndexedGUID")) ||
        open_sources(manager, &sources, c) != 0) {
        clear_args(args, 2);
        goto done;
    }
    clear_args(args, 2);
    switch (get_object(sources, L"Item", &guid, 1, &source, c, "Sources(instance)")) {
    case S_OK:
        rc = source_bindings(source, bindings, c);
        break;
    case S_FALSE:
        seo_fail(c, "SMTP virtual server #%d has no event source: does the instance exist?", instance);
        break;
    default:
        break;
    }
done:
    VariantClear(&guid);
    if (source)
        IDispatch_Release(source);
    if (sources)
        IDispatch_Release(sources);
    if (manager)
        IDispatch_Release(manager);
    if (util)
        IDispatch_Release(util);
    return rc;
}

typedef struct {
    const wchar_t *name;
    const wchar_t *keep; /* an id to leave alone, or NULL */
    BSTR ids[SEOBIND_MAX_ITEMS];
    int n;
} named_bindings;

static int collect_named(VARIANT *item, void *arg, seo_ctx *c)
{
    named_bindings *nb = arg;
    IDispatch *binding = item_object(item);
    BSTR name = NULL, id = NULL;
    if (!binding)
        return 0;
    if (SUCCEEDED(get_text(binding, L"DisplayName", NULL, 0, &name, c, "Binding.DisplayName")) &&
        wcscmp(name, nb->name) == 0 &&
        SUCCEEDED(get_text(binding, L"ID", NULL, 0, &id, c, "Binding.ID")) &&
        (!nb->keep || _wcsicmp(id, nb->keep) != 0) && nb->n < SEOBIND_MAX_ITEMS) {
        nb->ids[nb->n++] = id;
        id = NULL;
    }
    SysFreeString(name);
    SysFreeString(id);
    IDispatch_Release(binding);
    return 0;
}

/* Remove every binding named name from bindings, except the one whose id
 * is keep (may be NULL). Display names are case-sensitive, as smtpreg.vbs
 * treats them. */
static int remove_named(IDispatch *bindings, const wchar_t *name, const wchar_t *keep, int *removed,
                        seo_ctx *c)
{
    named_bindings *nb = calloc(1, sizeof *nb);
    int rc = 0;
    *removed = 0;
    if (!nb)
        return seo_fail(c, "out of memory");
    nb->name = name;
    nb->keep = keep;
    rc = for_each(bindings, collect_named, nb, c, "Bindings enumeration");
    for (int i = 0; rc == 0 && i < nb->n; i++) {
        VARIANT id = v_str(nb->ids[i]);
        if (FAILED(invoke(bindings, L"Remove", DISPID_VALUE, DISPATCH_METHOD, &id, 1, NULL, c,
                          "Bindings.Remove")))
            rc = -1;
        else
            (*removed)++;
        VariantClear(&id);
    }
    for (int i = 0; i < nb->n; i++)
        SysFreeString(nb->ids[i]);
    free(nb);
    return rc;
}

static int add_property(IDispatch *binding, const wchar_t *bag_name, const wchar_t *name,
                        VARIANT value, seo_ctx *c, const char *what)
{
    IDispatch *bag = NULL;
    VARIANT args[2];
    HRESULT hr = get_object(binding, bag_name, NULL, 0, &bag, c, what);
    int rc = -1;
    if (hr == S_OK) {
        args[0] = v_str(name);
        args[1] = value;
        hr = invoke(bag, L"Add", DISPID_VALUE, DISPATCH_METHOD, args, 2, NULL, c, what);
        clear_args(args, 2);
        rc = SUCCEEDED(hr) ? 0 : -1;
        IDispatch_Release(bag);
    } else {
        VariantClear(&value);
        if (hr == S_FALSE)
            seo_fail(c, "%s: the binding has no property bag", what);
    }
    return rc;
}

static int fill_binding(IDispatch *binding, const seobind_options *o, seo_ctx *c)
{
    if (FAILED(put_value(binding, L"DisplayName", v_str(o->name), c, "Binding.DisplayName")) ||
        FAILED(put_value(binding, L"SinkClass", v_str(o->progid), c, "Binding.SinkClass")) ||
        add_property(binding, L"SourceProperties", L"Rule", v_str(o->rule), c,
                     "SourceProperties.Add Rule") != 0 ||
        add_property(binding, L"SourceProperties", L"Priority", v_i4(o->priority), c,
                     "SourceProperties.Add Priority") != 0 ||
        add_property(binding, L"SinkProperties", L"Instance", v_i4(o->instance), c,
                     "SinkProperties.Add Instance") != 0 ||
        FAILED(put_value(binding, L"Enabled", v_bool(1), c, "Binding.Enabled")) ||
        FAILED(invoke(binding, L"Save", DISPID_VALUE, DISPATCH_METHOD, NULL, 0, NULL, c, "Binding.Save")))
        return -1;
    return 0;
}

void seobind_defaults(seobind_options *o)
{
    o->instance = 1;
    o->name = SEOBIND_DEFAULT_NAME;
    o->progid = SEOBIND_DEFAULT_PROGID;
    o->rule = SEOBIND_DEFAULT_RULE;
    o->priority = SEOBIND_DEFAULT_PRIORITY;
}

static int register_category(const wchar_t *progid, seo_ctx *c)
{
    IDispatch *comcat = NULL;
    VARIANT args[2];
    int rc = -1;
    if (FAILED(create_object(L"Event.ComCat", &comcat, c)))
        return -1;
    args[0] = v_str(progid);
    args[1] = v_str(SEOBIND_ONARRIVAL);
    if (SUCCEEDED(invoke(comcat, L"RegisterClassImplementsCategory", DISPID_VALUE, DISPATCH_METHOD,
                         args, 2, NULL, c,
                         "Event.ComCat.RegisterClassImplementsCategory (is the sink DLL registered?)")))
        rc = 0;
    clear_args(args, 2);
    IDispatch_Release(comcat);
    return rc;
}

int seobind_register(const seobind_options *o, wchar_t *id, size_t idlen, char *err, size_t errlen)
{
    seo_ctx c = { err, errlen };
    IDispatch *bindings = NULL, *binding = NULL;
    GUID guid;
    wchar_t text[40];
    VARIANT arg;
    int removed, rc = -1;

    if (o->priority < 0 || o->priority > SEOBIND_MAX_PRIORITY)
        return seo_fail(&c, "priority must be 0 to %d", SEOBIND_MAX_PRIORITY);
    if (!o->name[0] || !o->progid[0] || !o->rule[0])
        return seo_fail(&c, "display name, ProgID and rule must not be empty");
    if (register_category(o->progid, &c) != 0 || open_instance_bindings(o->instance, &bindings, &c) != 0)
        goto done;
    if (FAILED(CoCreateGuid(&guid)) || StringFromGUID2(&guid, text, 40) == 0) {
        seo_fail(&c, "could not make a binding id");
        goto done;
    }
    /* The new binding is saved before older ones of the same name go, so a
     * failure leaves the sink bound as it was. */
    arg = v_str(text);
    if (get_object(bindings, L"Add", &arg, 1, &binding, &c, "Bindings.Add") == S_OK &&
        fill_binding(binding, o, &c) == 0 && remove_named(bindings, o->name, text, &removed, &c) == 0) {
        swprintf(id, idlen, L"%ls", text);
        rc = 0;
    } else if (binding == NULL && !err[0]) {
        seo_fail(&c, "Bindings.Add returned no binding");
    }
    VariantClear(&arg);
done:
    if (binding)
        IDispatch_Release(binding);
    if (bindings)
        IDispatch_Release(bindings);
    return rc;
}

int seobind_unregister(int instance, const wchar_t *name, int *removed, char *err, size_t errlen)
{
    seo_ctx c = { err, errlen };
    IDispatch *bindings = NULL;
    int rc;
    *removed = 0;
    if (open_instance_bindings(instance, &bindings, &c) != 0)
        return -1;
    rc = remove_named(bindings, name, NULL, removed, &c);
    IDispatch_Release(bindings);
    return rc;
}

/* ---- bindings as data -------------------------------------------------- */

static void copy_wide(wchar_t *dst, size_t cap, const wchar_t *src)
{
    size_t n = src ? wcslen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        wmemcpy(dst, src, n);
    dst[n] = L'\0';
}

/* A text member into a fixed buffer; "" when it cannot be read. */
static void member_text(IDispatch *obj, const wchar_t *name, wchar_t *dst, size_t cap, seo_ctx *c)
{
    BSTR text = NULL;
    dst[0] = L'\0';
    if (SUCCEEDED(get_text(obj, name, NULL, 0, &text, c, "property")))
        copy_wide(dst, cap, text);
    SysFreeString(text);
}

/* bag(key) as text; 0 when the bag has it. */
static int bag_text(IDispatch *binding, const wchar_t *bag_name, const wchar_t *key, wchar_t *dst,
                    size_t cap, seo_ctx *c)
{
    IDispatch *bag = NULL;
    VARIANT arg = v_str(key);
    BSTR value = NULL;
    int rc = -1;
    dst[0] = L'\0';
    if (get_object(binding, bag_name, NULL, 0, &bag, c, "property bag") == S_OK &&
        SUCCEEDED(get_text(bag, L"Item", &arg, 1, &value, c, "PropertyBag.Item")) && value) {
        copy_wide(dst, cap, value);
        rc = 0;
    }
    SysFreeString(value);
    VariantClear(&arg);
    if (bag)
        IDispatch_Release(bag);
    return rc;
}

static int wide_int(const wchar_t *text, int absent)
{
    wchar_t *end = NULL;
    long v = text[0] ? wcstol(text, &end, 10) : 0;
    return text[0] && end && *end == L'\0' && v >= 0 && v <= INT_MAX ? (int)v : absent;
}

typedef struct {
    seobind_fn fn;
    void *arg;
    int stopped;
    seobind_binding b;                 /* the source's part is filled first */
    wchar_t indexed[SEOBIND_MAX_INSTANCE + 1][SEOBIND_ID_CHARS + 1];
} enum_walk;

static int visit_binding(VARIANT *item, void *arg, seo_ctx *c)
{
    enum_walk *w = arg;
    IDispatch *binding = item_object(item);
    wchar_t text[SEOBIND_TEXT_MAX];
    if (!binding)
        return 0;
    seobind_binding *b = &w->b;
    member_text(binding, L"ID", b->id, SEOBIND_ID_CHARS + 1, c);
    member_text(binding, L"DisplayName", b->name, SEOBIND_TEXT_MAX, c);
    member_text(binding, L"SinkClass", b->progid, SEOBIND_TEXT_MAX, c);
    member_text(binding, L"Enabled", text, SEOBIND_TEXT_MAX, c);
    b->enabled = _wcsicmp(text, L"False") != 0 && wcscmp(text, L"0") != 0;
    bag_text(binding, L"SourceProperties", L"Rule", b->rule, SEOBIND_TEXT_MAX, c);
    bag_text(binding, L"SourceProperties", L"Priority", text, SEOBIND_TEXT_MAX, c);
    b->priority = wide_int(text, -1);
    bag_text(binding, L"SinkProperties", L"Instance", text, SEOBIND_TEXT_MAX, c);
    b->sink_instance = wide_int(text, 0);
    IDispatch_Release(binding);
    w->stopped = w->fn(b, w->arg) != 0;
    return w->stopped;
}

/* The virtual server whose event source has this id: SEO names instance
 * n's source Event.Util.GetIndexedGUID(SMTP source base, n). */
static int instance_of(const enum_walk *w, const wchar_t *source_id)
{
    for (int n = 1; n <= SEOBIND_MAX_INSTANCE; n++)
        if (w->indexed[n][0] && _wcsicmp(w->indexed[n], source_id) == 0)
            return n;
    return 0;
}

static int visit_source(VARIANT *item, void *arg, seo_ctx *c)
{
    enum_walk *w = arg;
    IDispatch *source = item_object(item), *bindings = NULL;
    int rc = 0;
    if (!source)
        return 0;
    memset(&w->b, 0, sizeof w->b);
    member_text(source, L"DisplayName", w->b.source_name, SEOBIND_TEXT_MAX, c);
    member_text(source, L"ID", w->b.source_id, SEOBIND_ID_CHARS + 1, c);
    w->b.instance = instance_of(w, w->b.source_id);
    if (source_bindings(source, &bindings, c) == 0) {
        rc = for_each(bindings, visit_binding, w, c, "Bindings enumeration");
        IDispatch_Release(bindings);
    }
    IDispatch_Release(source);
    return rc;
}

static void index_instances(IDispatch *util, enum_walk *w, seo_ctx *c)
{
    for (int n = 1; n <= SEOBIND_MAX_INSTANCE; n++) {
        VARIANT args[2], guid;
        args[0] = v_str(SEOBIND_SMTP_SOURCE_BASE);
        args[1] = v_i4(n);
        VariantInit(&guid);
        if (SUCCEEDED(invoke(util, L"GetIndexedGUID", DISPID_VALUE, GET, args, 2, &guid, c,
                             "Event.Util.GetIndexedGUID")) &&
            V_VT(&guid) == VT_BSTR)
            copy_wide(w->indexed[n], SEOBIND_ID_CHARS + 1, V_BSTR(&guid));
        clear_args(args, 2);
        VariantClear(&guid);
    }
}

int seobind_enum(seobind_fn fn, void *arg, char *err, size_t errlen)
{
    seo_ctx c = { err, errlen };
    IDispatch *manager = NULL, *util = NULL, *sources = NULL;
    enum_walk *w = calloc(1, sizeof *w);
    int rc = -1;
    if (!w)
        return seo_fail(&c, "out of memory");
    w->fn = fn;
    w->arg = arg;
    if (SUCCEEDED(create_object(L"Event.Manager", &manager, &c)) &&
        SUCCEEDED(create_object(L"Event.Util", &util, &c)) &&
        open_sources(manager, &sources, &c) == 0) {
        index_instances(util, w, &c);
        rc = for_each(sources, visit_source, w, &c, "Sources enumeration");
        /* A callback that stopped the walk is not a failure. */
        if (w->stopped)
            rc = 0;
    }
    if (sources)
        IDispatch_Release(sources);
    if (util)
        IDispatch_Release(util);
    if (manager)
        IDispatch_Release(manager);
    free(w);
    return rc;
}

/* ---- the smtpreg-style listing ---------------------------------------- */

static void print_wide(FILE *out, const char *label, const wchar_t *value)
{
    char buf[1024];
    if (WideCharToMultiByte(CP_UTF8, 0, value ? value : L"", -1, buf, sizeof buf, NULL, NULL) <= 0)
        snprintf(buf, sizeof buf, "?");
    fprintf(out, "%s%s\n", label, buf);
}

typedef struct {
    FILE *out;
    wchar_t source_id[SEOBIND_ID_CHARS + 1];
    int any;
} list_walk;

static void print_source_head(FILE *out, const seobind_binding *b)
{
    fprintf(out, " --------\n| Source |\n --------\n");
    print_wide(out, " Name: ", b->source_name);
    print_wide(out, "   ID: ", b->source_id);
    if (b->instance > 0)
        fprintf(out, " Instance: %d\n", b->instance);
}

static int print_binding(const seobind_binding *b, void *arg)
{
    list_walk *w = arg;
    FILE *out = w->out;
    if (!w->any || wcscmp(w->source_id, b->source_id) != 0) {
        print_source_head(out, b);
        copy_wide(w->source_id, SEOBIND_ID_CHARS + 1, b->source_id);
        w->any = 1;
    }
    fprintf(out, "              ---------\n");
    fprintf(out, "             | Binding |\n");
    fprintf(out, "              ---------\n");
    fprintf(out, "                   Event: OnArrival\n");
    print_wide(out, "                      ID: ", b->id);
    print_wide(out, "                    Name: ", b->name);
    print_wide(out, "               SinkClass: ", b->progid);
    fprintf(out, "                 Enabled: %s\n", b->enabled ? "True" : "False");
    fprintf(out, "        SourceProperties: {\n");
    print_wide(out, "                           Rule = ", b->rule);
    if (b->priority >= 0)
        fprintf(out, "                           Priority = %d\n", b->priority);
    fprintf(out, "                         }\n");
    fprintf(out, "          SinkProperties: {\n");
    if (b->sink_instance > 0)
        fprintf(out, "                           Instance = %d\n", b->sink_instance);
    fprintf(out, "                         }\n");
    return 0;
}

int seobind_list(FILE *out, char *err, size_t errlen)
{
    list_walk w = { .out = out };
    print_wide(out, "SMTP source type ", SEOBIND_SMTP_SOURCE_TYPE);
    print_wide(out, "OnArrival event  ", SEOBIND_ONARRIVAL);
    int rc = seobind_enum(print_binding, &w, err, errlen);
    if (rc == 0 && !w.any)
        fprintf(out, "(no OnArrival bindings)\n");
    return rc;
}
