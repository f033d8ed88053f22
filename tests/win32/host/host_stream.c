/* host_stream: STAND-IN for the ADO Stream the SMTP service returns from
 * IMessage.GetStream, for the sink tests under Wine. Reachable through its
 * vtable and through IDispatch (Position, Type, Size, Read), which is how
 * the sink uses it. Like ADO: a new stream is text, its Type changes only
 * at position 0, and Read needs a binary stream. */
#include "host.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

enum { DISPID_POSITION = 1, DISPID_TYPE, DISPID_SIZE, DISPID_READ };

typedef struct {
    _Stream iface;
    volatile LONG refs;
    unsigned char *bytes;
    size_t len;
    size_t position;
    StreamTypeEnum type;
} host_stream;

static host_stream *stream_from(_Stream *s) { return (host_stream *)s; }

static HRESULT WINAPI stream_QueryInterface(_Stream *self, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch)) {
        *ppv = self;
        _Stream_AddRef(self);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI stream_AddRef(_Stream *self)
{
    return (ULONG)InterlockedIncrement(&stream_from(self)->refs);
}

static ULONG WINAPI stream_Release(_Stream *self)
{
    host_stream *s = stream_from(self);
    LONG refs = InterlockedDecrement(&s->refs);
    if (refs == 0) {
        free(s->bytes);
        free(s);
        host_object_destroyed();
    }
    return (ULONG)refs;
}

static HRESULT WINAPI stream_get_Size(_Stream *self, ADO_LONGPTR *size)
{
    if (!size)
        return E_POINTER;
    *size = (ADO_LONGPTR)stream_from(self)->len;
    return S_OK;
}

static HRESULT WINAPI stream_get_Position(_Stream *self, ADO_LONGPTR *pos)
{
    if (!pos)
        return E_POINTER;
    *pos = (ADO_LONGPTR)stream_from(self)->position;
    return S_OK;
}

static HRESULT WINAPI stream_put_Position(_Stream *self, ADO_LONGPTR pos)
{
    host_stream *s = stream_from(self);
    if (pos < 0 || (size_t)pos > s->len)
        return E_INVALIDARG;
    s->position = (size_t)pos;
    return S_OK;
}

static HRESULT WINAPI stream_get_Type(_Stream *self, StreamTypeEnum *type)
{
    if (!type)
        return E_POINTER;
    *type = stream_from(self)->type;
    return S_OK;
}

static HRESULT WINAPI stream_put_Type(_Stream *self, StreamTypeEnum type)
{
    host_stream *s = stream_from(self);
    if (type != adTypeBinary && type != adTypeText)
        return E_INVALIDARG;
    if (s->position != 0)
        return HOST_E_ILLEGAL_OPERATION;
    s->type = type;
    return S_OK;
}

/* count < 0 (adReadAll): the rest of the stream. */
static HRESULT WINAPI stream_Read(_Stream *self, long count, VARIANT *out)
{
    host_stream *s = stream_from(self);
    size_t n = s->len - s->position;
    SAFEARRAY *array;
    void *data;
    if (!out)
        return E_POINTER;
    VariantInit(out);
    if (s->type != adTypeBinary)
        return HOST_E_ILLEGAL_OPERATION;
    if (count >= 0 && (size_t)count < n)
        n = (size_t)count;
    if (n == 0)
        return S_OK; /* ADO answers an exhausted stream with Null/Empty */
    array = SafeArrayCreateVector(VT_UI1, 0, (ULONG)n);
    if (!array)
        return E_OUTOFMEMORY;
    if (FAILED(SafeArrayAccessData(array, &data))) {
        SafeArrayDestroy(array);
        return E_FAIL;
    }
    memcpy(data, s->bytes + s->position, n);
    SafeArrayUnaccessData(array);
    s->position += n;
    V_VT(out) = VT_ARRAY | VT_UI1;
    V_ARRAY(out) = array;
    return S_OK;
}

/* IDispatch, with the four names a sink needs. */
static HRESULT WINAPI stream_GetTypeInfoCount(_Stream *self, UINT *count)
{
    if (!count)
        return E_POINTER;
    *count = 0;
    return S_OK;
}

static HRESULT WINAPI stream_GetTypeInfo(_Stream *self, UINT index, LCID lcid, ITypeInfo **info)
{
    return DISP_E_BADINDEX;
}

static HRESULT WINAPI stream_GetIDsOfNames(_Stream *self, REFIID riid, LPOLESTR *names, UINT count,
                                           LCID lcid, DISPID *ids)
{
    static const wchar_t *known[] = {L"Position", L"Type", L"Size", L"Read"};
    HRESULT hr = S_OK;
    for (UINT i = 0; i < count; i++) {
        ids[i] = DISPID_UNKNOWN;
        for (int k = 0; k < 4; k++)
            if (_wcsicmp(names[i], known[k]) == 0)
                ids[i] = DISPID_POSITION + k;
        if (ids[i] == DISPID_UNKNOWN)
            hr = DISP_E_UNKNOWNNAME;
    }
    return hr;
}

static HRESULT arg_i4(DISPPARAMS *params, LONG *out)
{
    VARIANT v;
    HRESULT hr;
    if (!params || params->cArgs != 1)
        return DISP_E_BADPARAMCOUNT;
    VariantInit(&v);
    hr = VariantChangeType(&v, &params->rgvarg[0], 0, VT_I4);
    if (SUCCEEDED(hr))
        *out = V_I4(&v);
    return FAILED(hr) ? DISP_E_TYPEMISMATCH : S_OK;
}

static HRESULT put_i8_result(VARIANT *result, LONGLONG value)
{
    if (!result)
        return S_OK;
    VariantInit(result);
    V_VT(result) = VT_I8;
    V_I8(result) = value;
    return S_OK;
}

static HRESULT WINAPI stream_Invoke(_Stream *self, DISPID id, REFIID riid, LCID lcid, WORD flags,
                                    DISPPARAMS *params, VARIANT *result, EXCEPINFO *excep,
                                    UINT *arg_err)
{
    host_stream *s = stream_from(self);
    LONG value = 0;
    HRESULT hr;
    if (flags & DISPATCH_PROPERTYPUT) {
        if (FAILED(hr = arg_i4(params, &value)))
            return hr;
        if (id == DISPID_POSITION)
            return stream_put_Position(self, value);
        if (id == DISPID_TYPE)
            return stream_put_Type(self, (StreamTypeEnum)value);
        return DISP_E_MEMBERNOTFOUND;
    }
    switch (id) {
    case DISPID_POSITION:
        return put_i8_result(result, (LONGLONG)s->position);
    case DISPID_TYPE:
        if (result) {
            VariantInit(result);
            V_VT(result) = VT_I4;
            V_I4(result) = s->type;
        }
        return S_OK;
    case DISPID_SIZE:
        return put_i8_result(result, (LONGLONG)s->len);
    case DISPID_READ:
        if (!(flags & DISPATCH_METHOD))
            return DISP_E_MEMBERNOTFOUND;
        value = adReadAll;
        if (params && params->cArgs > 0 && FAILED(hr = arg_i4(params, &value)))
            return hr;
        if (!result)
            return E_POINTER;
        return stream_Read(self, value, result);
    default:
        return DISP_E_MEMBERNOTFOUND;
    }
}

/* Members the sink never calls: E_NOTIMPL, as a host would answer for a
 * feature it lacks. */
static HRESULT WINAPI stream_get_EOS(_Stream *self, VARIANT_BOOL *pEOS) { return E_NOTIMPL; }
static HRESULT WINAPI stream_get_LineSeparator(_Stream *self, LineSeparatorEnum *pLS)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_put_LineSeparator(_Stream *self, LineSeparatorEnum LineSeparator)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_get_State(_Stream *self, ObjectStateEnum *pState) { return E_NOTIMPL; }
static HRESULT WINAPI stream_get_Mode(_Stream *self, ConnectModeEnum *pMode) { return E_NOTIMPL; }
static HRESULT WINAPI stream_put_Mode(_Stream *self, ConnectModeEnum Mode) { return E_NOTIMPL; }
static HRESULT WINAPI stream_get_Charset(_Stream *self, BSTR *pbstrCharset) { return E_NOTIMPL; }
static HRESULT WINAPI stream_put_Charset(_Stream *self, BSTR Charset) { return E_NOTIMPL; }
static HRESULT WINAPI stream_Open(_Stream *self, VARIANT Source, ConnectModeEnum Mode,
                                  StreamOpenOptionsEnum Options, BSTR UserName, BSTR Password)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_Close(_Stream *self) { return E_NOTIMPL; }
static HRESULT WINAPI stream_SkipLine(_Stream *self) { return E_NOTIMPL; }
static HRESULT WINAPI stream_Write(_Stream *self, VARIANT Buffer) { return E_NOTIMPL; }
static HRESULT WINAPI stream_SetEOS(_Stream *self) { return E_NOTIMPL; }
static HRESULT WINAPI stream_CopyTo(_Stream *self, _Stream *DestStream, ADO_LONGPTR CharNumber)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_Flush(_Stream *self) { return E_NOTIMPL; }
static HRESULT WINAPI stream_SaveToFile(_Stream *self, BSTR FileName, SaveOptionsEnum Options)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_LoadFromFile(_Stream *self, BSTR FileName) { return E_NOTIMPL; }
static HRESULT WINAPI stream_ReadText(_Stream *self, long NumChars, BSTR *pbstr)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_WriteText(_Stream *self, BSTR Data, StreamWriteEnum Options)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI stream_Cancel(_Stream *self) { return E_NOTIMPL; }

static const _StreamVtbl stream_vtbl = {
    stream_QueryInterface,
    stream_AddRef,
    stream_Release,
    stream_GetTypeInfoCount,
    stream_GetTypeInfo,
    stream_GetIDsOfNames,
    stream_Invoke,
    stream_get_Size,
    stream_get_EOS,
    stream_get_Position,
    stream_put_Position,
    stream_get_Type,
    stream_put_Type,
    stream_get_LineSeparator,
    stream_put_LineSeparator,
    stream_get_State,
    stream_get_Mode,
    stream_put_Mode,
    stream_get_Charset,
    stream_put_Charset,
    stream_Read,
    stream_Open,
    stream_Close,
    stream_SkipLine,
    stream_Write,
    stream_SetEOS,
    stream_CopyTo,
    stream_Flush,
    stream_SaveToFile,
    stream_LoadFromFile,
    stream_ReadText,
    stream_WriteText,
    stream_Cancel,
};

HRESULT host_stream_create(const void *bytes, size_t len, _Stream **out)
{
    host_stream *s = calloc(1, sizeof *s);
    if (!s || !(s->bytes = malloc(len ? len : 1))) {
        free(s);
        return E_OUTOFMEMORY;
    }
    memcpy(s->bytes, bytes, len);
    s->len = len;
    s->type = adTypeText;
    s->iface.lpVtbl = &stream_vtbl;
    s->refs = 1;
    host_object_created();
    *out = &s->iface;
    return S_OK;
}
