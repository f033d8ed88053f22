/* iis: see iis.h. The SmtpSvc container is enumerated through IADs, the
 * dual (IDispatch) interface of the IIS ADSI provider. */
#define COBJMACROS
#include "iis.h"

#include <ole2.h>
#include <activeds.h>
#include <stdio.h>
#include <stdlib.h>

static void get_string_prop(IADs *ads, const wchar_t *name, wchar_t *out, size_t len)
{
    VARIANT v;
    BSTR prop = SysAllocString(name);
    out[0] = 0;
    VariantInit(&v);
    if (prop && SUCCEEDED(IADs_Get(ads, prop, &v)) && SUCCEEDED(VariantChangeType(&v, &v, 0, VT_BSTR)))
        _snwprintf(out, len - 1, L"%ls", v.bstrVal ? v.bstrVal : L""), out[len - 1] = 0;
    VariantClear(&v);
    SysFreeString(prop);
}

/* Reads one child if it is an SMTP virtual server; 1 when stored. */
static int read_server(IDispatch *disp, iis_server *out)
{
    IADs *ads = NULL;
    BSTR cls = NULL, name = NULL;
    int ok = 0;
    if (FAILED(IDispatch_QueryInterface(disp, &IID_IADs, (void **)&ads)))
        return 0;
    if (SUCCEEDED(IADs_get_Class(ads, &cls)) && cls && _wcsicmp(cls, L"IIsSmtpServer") == 0
        && SUCCEEDED(IADs_get_Name(ads, &name)) && name) {
        out->instance = _wtoi(name);
        get_string_prop(ads, L"ServerComment", out->comment, sizeof out->comment / sizeof(wchar_t));
        get_string_prop(ads, L"PickupDirectory", out->pickup, sizeof out->pickup / sizeof(wchar_t));
        ok = out->instance > 0;
    }
    SysFreeString(cls);
    SysFreeString(name);
    IADs_Release(ads);
    return ok;
}

int iis_servers_list(iis_server *out, int max)
{
    IADsContainer *smtp = NULL;
    IEnumVARIANT *en = NULL;
    int n = 0;
    if (FAILED(ADsGetObject(L"IIS://localhost/SmtpSvc", &IID_IADsContainer, (void **)&smtp)))
        return 0;
    if (SUCCEEDED(ADsBuildEnumerator(smtp, &en))) {
        VARIANT v;
        ULONG fetched = 0;
        VariantInit(&v);
        while (n < max && SUCCEEDED(ADsEnumerateNext(en, 1, &v, &fetched)) && fetched == 1) {
            if (v.vt == VT_DISPATCH && v.pdispVal)
                n += read_server(v.pdispVal, &out[n]);
            VariantClear(&v);
        }
        ADsFreeEnumerator(en);
    }
    IADsContainer_Release(smtp);
    return n;
}

int iis_pickup_dir(int instance, char *buf, size_t len)
{
    wchar_t path[64], pickup[MAX_PATH];
    IADs *ads = NULL;
    int found = -1;
    if (instance < 1 || len == 0)
        return -1;
    _snwprintf(path, 63, L"IIS://localhost/SmtpSvc/%d", instance);
    path[63] = 0;
    /* S_FALSE: already up on this thread; RPC_E_CHANGED_MODE: up in the
     * other model, usable as it is. Only our own S_OK/S_FALSE is undone. */
    HRESULT com = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    if (SUCCEEDED(ADsGetObject(path, &IID_IADs, (void **)&ads)) && ads) {
        get_string_prop(ads, L"PickupDirectory", pickup, MAX_PATH);
        IADs_Release(ads);
        if (pickup[0] &&
            WideCharToMultiByte(CP_UTF8, 0, pickup, -1, buf, (int)len, NULL, NULL) > 0)
            found = 0;
    }
    if (SUCCEEDED(com))
        CoUninitialize();
    return found;
}
