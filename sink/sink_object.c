/* sink_object: the COM object SEO creates for the binding. It implements
 * ISMTPOnArrival (the event), IEventIsCacheable (SEO may keep one instance
 * per binding instead of creating one per message) and IPersistPropertyBag
 * (SEO hands over the binding's SinkProperties; "Instance" there names the
 * SMTP virtual server the binding was made for). ThreadingModel Both: the
 * only state is the reference count and the instance number, both changed
 * with interlocked operations. */
#include "sink.h"
#include "tlsrouter_msg.h"

#include <stdlib.h>

typedef struct {
    ISMTPOnArrival arrival;
    IEventIsCacheable cacheable;
    IPersistPropertyBag persist;
    volatile LONG refs;
    volatile LONG source_instance;
} sink_object;

#define SINK_DEFAULT_INSTANCE 1
#define SINK_INSTANCE_PROPERTY L"Instance"

static sink_object *from_arrival(ISMTPOnArrival *p)
{
    return (sink_object *)((char *)p - offsetof(sink_object, arrival));
}
static sink_object *from_cacheable(IEventIsCacheable *p)
{
    return (sink_object *)((char *)p - offsetof(sink_object, cacheable));
}
static sink_object *from_persist(IPersistPropertyBag *p)
{
    return (sink_object *)((char *)p - offsetof(sink_object, persist));
}

/* IUnknown, shared by the three interfaces. */
static HRESULT object_query(sink_object *o, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch) ||
        IsEqualIID(riid, &IID_ISMTPOnArrival))
        *ppv = &o->arrival;
    else if (IsEqualIID(riid, &IID_IEventIsCacheable))
        *ppv = &o->cacheable;
    else if (IsEqualIID(riid, &IID_IPersistPropertyBag) || IsEqualIID(riid, &IID_IPersist))
        *ppv = &o->persist;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    InterlockedIncrement(&o->refs);
    return S_OK;
}

static ULONG object_add_ref(sink_object *o) { return (ULONG)InterlockedIncrement(&o->refs); }

static ULONG object_release(sink_object *o)
{
    LONG refs = InterlockedDecrement(&o->refs);
    if (refs == 0) {
        free(o);
        sink_module_object_destroyed();
    }
    return (ULONG)refs;
}

/* ISMTPOnArrival */
static HRESULT WINAPI arrival_query_interface(ISMTPOnArrival *p, REFIID riid, void **ppv)
{
    return object_query(from_arrival(p), riid, ppv);
}
static ULONG WINAPI arrival_add_ref(ISMTPOnArrival *p) { return object_add_ref(from_arrival(p)); }
static ULONG WINAPI arrival_release(ISMTPOnArrival *p) { return object_release(from_arrival(p)); }

/* SEO calls the vtable directly; there is no type library, so late-bound
 * callers get clear "not supported" answers. */
static HRESULT WINAPI arrival_get_type_info_count(ISMTPOnArrival *p, UINT *count)
{
    if (!count)
        return E_POINTER;
    *count = 0;
    return S_OK;
}
static HRESULT WINAPI arrival_get_type_info(ISMTPOnArrival *p, UINT index, LCID lcid, ITypeInfo **info)
{
    if (info)
        *info = NULL;
    return DISP_E_BADINDEX;
}
static HRESULT WINAPI arrival_get_ids_of_names(ISMTPOnArrival *p, REFIID riid, LPOLESTR *names,
                                               UINT count, LCID lcid, DISPID *ids)
{
    for (UINT i = 0; ids && i < count; i++)
        ids[i] = DISPID_UNKNOWN;
    return DISP_E_UNKNOWNNAME;
}
static HRESULT WINAPI arrival_invoke(ISMTPOnArrival *p, DISPID id, REFIID riid, LCID lcid, WORD flags,
                                     DISPPARAMS *params, VARIANT *result, EXCEPINFO *excep,
                                     UINT *arg_err)
{
    return DISP_E_MEMBERNOTFOUND;
}

/* The event. Whatever happens inside, the SMTP service gets S_OK and
 * "run the next sink": a failure leaves the message to go out as it came. */
static HRESULT WINAPI arrival_on_arrival(ISMTPOnArrival *p, IMessage *msg, CdoEventStatus *status)
{
    sink_object *o = from_arrival(p);
    if (status)
        *status = cdoRunNextSink;
    if (msg)
        sink_arrival_process(msg, (int)InterlockedCompareExchange(&o->source_instance, 0, 0));
    return S_OK;
}

static const ISMTPOnArrivalVtbl arrival_vtbl = {
    arrival_query_interface, arrival_add_ref, arrival_release,
    arrival_get_type_info_count, arrival_get_type_info, arrival_get_ids_of_names, arrival_invoke,
    arrival_on_arrival,
};

/* IEventIsCacheable: S_OK, one object may serve many messages. */
static HRESULT WINAPI cacheable_query_interface(IEventIsCacheable *p, REFIID riid, void **ppv)
{
    return object_query(from_cacheable(p), riid, ppv);
}
static ULONG WINAPI cacheable_add_ref(IEventIsCacheable *p) { return object_add_ref(from_cacheable(p)); }
static ULONG WINAPI cacheable_release(IEventIsCacheable *p) { return object_release(from_cacheable(p)); }
static HRESULT WINAPI cacheable_is_cacheable(IEventIsCacheable *p) { return S_OK; }

static const IEventIsCacheableVtbl cacheable_vtbl = {
    cacheable_query_interface, cacheable_add_ref, cacheable_release, cacheable_is_cacheable,
};

/* IPersistPropertyBag: read "Instance" from the binding's sink properties. */
static HRESULT WINAPI persist_query_interface(IPersistPropertyBag *p, REFIID riid, void **ppv)
{
    return object_query(from_persist(p), riid, ppv);
}
static ULONG WINAPI persist_add_ref(IPersistPropertyBag *p) { return object_add_ref(from_persist(p)); }
static ULONG WINAPI persist_release(IPersistPropertyBag *p) { return object_release(from_persist(p)); }
static HRESULT WINAPI persist_get_class_id(IPersistPropertyBag *p, CLSID *clsid)
{
    if (!clsid)
        return E_POINTER;
    *clsid = CLSID_TlsRouterSink;
    return S_OK;
}
static HRESULT WINAPI persist_init_new(IPersistPropertyBag *p) { return S_OK; }

static HRESULT WINAPI persist_load(IPersistPropertyBag *p, IPropertyBag *bag, IErrorLog *log)
{
    VARIANT v;
    LONG instance = SINK_DEFAULT_INSTANCE;
    if (!bag)
        return E_POINTER;
    VariantInit(&v);
    /* A missing property keeps the default; a bad one too, and is logged:
     * loading must not fail, or SEO would skip the sink altogether. */
    if (SUCCEEDED(IPropertyBag_Read(bag, SINK_INSTANCE_PROPERTY, &v, log))) {
        if (SUCCEEDED(VariantChangeType(&v, &v, 0, VT_I4)) && V_I4(&v) >= 1)
            instance = V_I4(&v);
        else
            sink_log_event(SINK_LOG_WARNING, MSG_BAD_INSTANCE_PROPERTY, 1, "1");
    }
    VariantClear(&v);
    InterlockedExchange(&from_persist(p)->source_instance, instance);
    return S_OK;
}

static HRESULT WINAPI persist_save(IPersistPropertyBag *p, IPropertyBag *bag, BOOL clear_dirty,
                                   BOOL save_all)
{
    VARIANT v;
    HRESULT hr;
    if (!bag)
        return E_POINTER;
    VariantInit(&v);
    V_VT(&v) = VT_I4;
    V_I4(&v) = InterlockedCompareExchange(&from_persist(p)->source_instance, 0, 0);
    hr = IPropertyBag_Write(bag, SINK_INSTANCE_PROPERTY, &v);
    return hr;
}

static const IPersistPropertyBagVtbl persist_vtbl = {
    persist_query_interface, persist_add_ref, persist_release,
    persist_get_class_id, persist_init_new, persist_load, persist_save,
};

HRESULT sink_object_create(IUnknown *outer, REFIID riid, void **ppv)
{
    sink_object *o;
    HRESULT hr;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    o = calloc(1, sizeof *o);
    if (!o)
        return E_OUTOFMEMORY;
    o->arrival.lpVtbl = &arrival_vtbl;
    o->cacheable.lpVtbl = &cacheable_vtbl;
    o->persist.lpVtbl = &persist_vtbl;
    o->refs = 1;
    o->source_instance = SINK_DEFAULT_INSTANCE;
    sink_module_object_created();
    hr = object_query(o, riid, ppv);
    object_release(o);
    return hr;
}
