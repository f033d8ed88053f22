/* sink_factory: the class factory of the sink. One small heap object per
 * DllGetClassObject call, counted like any other object of the DLL, so the
 * object count is exact whoever holds on to a factory. */
#include "sink.h"

#include <stdlib.h>

typedef struct {
    IClassFactory iface;
    volatile LONG refs;
} sink_factory;

static sink_factory *factory_from(IClassFactory *iface)
{
    return (sink_factory *)iface; /* iface is the first member */
}

static HRESULT WINAPI factory_query_interface(IClassFactory *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = iface;
        IClassFactory_AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI factory_add_ref(IClassFactory *iface)
{
    return (ULONG)InterlockedIncrement(&factory_from(iface)->refs);
}

static ULONG WINAPI factory_release(IClassFactory *iface)
{
    sink_factory *f = factory_from(iface);
    LONG refs = InterlockedDecrement(&f->refs);
    if (refs == 0) {
        free(f);
        sink_module_object_destroyed();
    }
    return (ULONG)refs;
}

static HRESULT WINAPI factory_create_instance(IClassFactory *iface, IUnknown *outer, REFIID riid,
                                              void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    return sink_object_create(outer, riid, ppv);
}

static HRESULT WINAPI factory_lock_server(IClassFactory *iface, BOOL lock)
{
    sink_module_lock(lock);
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    factory_query_interface, factory_add_ref, factory_release,
    factory_create_instance, factory_lock_server,
};

HRESULT sink_factory_create(REFIID riid, void **ppv)
{
    sink_factory *f = calloc(1, sizeof *f);
    HRESULT hr;
    if (!f)
        return E_OUTOFMEMORY;
    f->iface.lpVtbl = &factory_vtbl;
    f->refs = 1;
    sink_module_object_created();
    hr = IClassFactory_QueryInterface(&f->iface, riid, ppv);
    IClassFactory_Release(&f->iface); /* the caller's reference, if any, keeps it */
    return hr;
}
