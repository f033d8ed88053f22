/* host_fields: STAND-IN for the SMTP service's envelope Fields collection
 * and its Field objects (ADO interfaces), for the sink tests under Wine.
 * A Field's new value is pending until Fields.Update commits it, as in the
 * service; CancelUpdate drops pending values. */
#include "host.h"

#include <stdlib.h>
#include <wchar.h>

#define HOST_MAX_FIELDS 16

typedef struct {
    wchar_t *name;
    VARIANT committed;
    VARIANT pending;
    int has_pending;
} host_entry;

struct host_envelope {
    host_entry entries[HOST_MAX_FIELDS];
    int n;
    SRWLOCK lock;
};

host_envelope *host_envelope_new(void)
{
    host_envelope *env = calloc(1, sizeof *env);
    if (env)
        InitializeSRWLock(&env->lock);
    return env;
}

void host_envelope_free(host_envelope *env)
{
    if (!env)
        return;
    for (int i = 0; i < env->n; i++) {
        free(env->entries[i].name);
        VariantClear(&env->entries[i].committed);
        VariantClear(&env->entries[i].pending);
    }
    free(env);
}

static host_entry *find_entry(host_envelope *env, const wchar_t *name)
{
    for (int i = 0; i < env->n; i++)
        if (_wcsicmp(env->entries[i].name, name) == 0)
            return &env->entries[i];
    return NULL;
}

int host_envelope_set(host_envelope *env, const wchar_t *name, const VARIANT *value)
{
    host_entry *e = find_entry(env, name);
    if (!e) {
        if (env->n == HOST_MAX_FIELDS)
            return -1;
        e = &env->entries[env->n];
        e->name = _wcsdup(name);
        if (!e->name)
            return -1;
        VariantInit(&e->committed);
        VariantInit(&e->pending);
        env->n++;
    }
    return FAILED(VariantCopy(&e->committed, (VARIANT *)value)) ? -1 : 0;
}

HRESULT host_envelope_committed(host_envelope *env, const wchar_t *name, VARIANT *out)
{
    HRESULT hr;
    AcquireSRWLockShared(&env->lock);
    host_entry *e = find_entry(env, name);
    hr = e ? VariantCopy(out, &e->committed) : HOST_E_ITEM_NOT_FOUND;
    ReleaseSRWLockShared(&env->lock);
    return hr;
}

/* Field: one entry of a collection; keeps its collection alive. */
typedef struct {
    Field iface;
    volatile LONG refs;
    Fields *parent;
    host_envelope *env;
    host_entry *entry;
} host_field;

/* Fields: the collection; keeps its message alive. */
typedef struct {
    Fields iface;
    volatile LONG refs;
    host_message *owner;
    host_envelope *env;
} host_fields;

static host_field *field_from(Field *f) { return (host_field *)f; }
static host_fields *fields_from(Fields *f) { return (host_fields *)f; }

static HRESULT WINAPI field_QueryInterface(Field *self, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch)) {
        *ppv = self;
        Field_AddRef(self);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI field_AddRef(Field *self)
{
    return (ULONG)InterlockedIncrement(&field_from(self)->refs);
}

static ULONG WINAPI field_Release(Field *self)
{
    host_field *f = field_from(self);
    LONG refs = InterlockedDecrement(&f->refs);
    if (refs == 0) {
        Fields_Release(f->parent);
        free(f);
        host_object_destroyed();
    }
    return (ULONG)refs;
}

static HRESULT WINAPI field_get_Name(Field *self, BSTR *name)
{
    if (!name)
        return E_POINTER;
    *name = SysAllocString(field_from(self)->entry->name);
    return *name ? S_OK : E_OUTOFMEMORY;
}

static HRESULT WINAPI field_get_Value(Field *self, VARIANT *value)
{
    host_field *f = field_from(self);
    HRESULT hr;
    if (!value)
        return E_POINTER;
    VariantInit(value);
    AcquireSRWLockShared(&f->env->lock);
    hr = VariantCopy(value, f->entry->has_pending ? &f->entry->pending : &f->entry->committed);
    ReleaseSRWLockShared(&f->env->lock);
    return hr;
}

static HRESULT WINAPI field_put_Value(Field *self, VARIANT value)
{
    host_field *f = field_from(self);
    HRESULT hr;
    AcquireSRWLockExclusive(&f->env->lock);
    hr = VariantCopy(&f->entry->pending, &value);
    if (SUCCEEDED(hr))
        f->entry->has_pending = 1;
    ReleaseSRWLockExclusive(&f->env->lock);
    return hr;
}

/* Members the sink never calls: E_NOTIMPL, as a host would answer for a
 * feature it lacks. */
static HRESULT WINAPI field_GetTypeInfoCount(Field *self, UINT *pctinfo) { return E_NOTIMPL; }
static HRESULT WINAPI field_GetTypeInfo(Field *self, UINT iTInfo, LCID lcid, ITypeInfo **ppTInfo)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI field_GetIDsOfNames(Field *self, REFIID riid, LPOLESTR *rgszNames,
                                          UINT cNames, LCID lcid, DISPID *rgDispId)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI field_Invoke(Field *self, DISPID dispIdMember, REFIID riid, LCID lcid,
                                   WORD wFlags, DISPPARAMS *pDispParams, VARIANT *pVarResult,
                                   EXCEPINFO *pExcepInfo, UINT *puArgErr)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI field_get_Properties(Field *self, ADOProperties **ppvObject)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI field_get_ActualSize(Field *self, ADO_LONGPTR *pl) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_Attributes(Field *self, long *pl) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_DefinedSize(Field *self, ADO_LONGPTR *pl) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_Type(Field *self, DataTypeEnum *pDataType) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_Precision(Field *self, BYTE *pbPrecision) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_NumericScale(Field *self, BYTE *pbNumericScale)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI field_AppendChunk(Field *self, VARIANT Data) { return E_NOTIMPL; }
static HRESULT WINAPI field_GetChunk(Field *self, long Length, VARIANT *pvar) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_OriginalValue(Field *self, VARIANT *pvar) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_UnderlyingValue(Field *self, VARIANT *pvar) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_DataFormat(Field *self, IUnknown **ppiDF) { return E_NOTIMPL; }
static HRESULT WINAPI field_putref_DataFormat(Field *self, IUnknown *piDF) { return E_NOTIMPL; }
static HRESULT WINAPI field_put_Precision(Field *self, BYTE bPrecision) { return E_NOTIMPL; }
static HRESULT WINAPI field_put_NumericScale(Field *self, BYTE bScale) { return E_NOTIMPL; }
static HRESULT WINAPI field_put_Type(Field *self, DataTypeEnum DataType) { return E_NOTIMPL; }
static HRESULT WINAPI field_put_DefinedSize(Field *self, ADO_LONGPTR lSize) { return E_NOTIMPL; }
static HRESULT WINAPI field_put_Attributes(Field *self, long lAttributes) { return E_NOTIMPL; }
static HRESULT WINAPI field_get_Status(Field *self, long *pFStatus) { return E_NOTIMPL; }

static const FieldVtbl field_vtbl = {
    field_QueryInterface,
    field_AddRef,
    field_Release,
    field_GetTypeInfoCount,
    field_GetTypeInfo,
    field_GetIDsOfNames,
    field_Invoke,
    field_get_Properties,
    field_get_ActualSize,
    field_get_Attributes,
    field_get_DefinedSize,
    field_get_Name,
    field_get_Type,
    field_get_Value,
    field_put_Value,
    field_get_Precision,
    field_get_NumericScale,
    field_AppendChunk,
    field_GetChunk,
    field_get_OriginalValue,
    field_get_UnderlyingValue,
    field_get_DataFormat,
    field_putref_DataFormat,
    field_put_Precision,
    field_put_NumericScale,
    field_put_Type,
    field_put_DefinedSize,
    field_put_Attributes,
    field_get_Status,
};

static HRESULT WINAPI fields_QueryInterface(Fields *self, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch)) {
        *ppv = self;
        Fields_AddRef(self);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI fields_AddRef(Fields *self)
{
    return (ULONG)InterlockedIncrement(&fields_from(self)->refs);
}

static ULONG WINAPI fields_Release(Fields *self)
{
    host_fields *f = fields_from(self);
    LONG refs = InterlockedDecrement(&f->refs);
    if (refs == 0) {
        host_message_release(f->owner);
        free(f);
        host_object_destroyed();
    }
    return (ULONG)refs;
}

static HRESULT WINAPI fields_get_Count(Fields *self, long *count)
{
    if (!count)
        return E_POINTER;
    *count = fields_from(self)->env->n;
    return S_OK;
}

/* Item by name (case-insensitive, as ADO) or by index. */
static HRESULT WINAPI fields_get_Item(Fields *self, VARIANT index, Field **out)
{
    host_fields *fs = fields_from(self);
    host_entry *e = NULL;
    host_field *f;
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (V_VT(&index) == VT_BSTR && V_BSTR(&index))
        e = find_entry(fs->env, V_BSTR(&index));
    else if (V_VT(&index) == VT_I4 && V_I4(&index) >= 0 && V_I4(&index) < fs->env->n)
        e = &fs->env->entries[V_I4(&index)];
    if (!e)
        return HOST_E_ITEM_NOT_FOUND;
    f = calloc(1, sizeof *f);
    if (!f)
        return E_OUTOFMEMORY;
    f->iface.lpVtbl = &field_vtbl;
    f->refs = 1;
    f->parent = self;
    f->env = fs->env;
    f->entry = e;
    Fields_AddRef(self);
    host_object_created();
    *out = &f->iface;
    return S_OK;
}

static HRESULT WINAPI fields_Update(Fields *self)
{
    host_fields *fs = fields_from(self);
    HRESULT hr = host_message_update_result(fs->owner);
    if (FAILED(hr))
        return hr;
    AcquireSRWLockExclusive(&fs->env->lock);
    for (int i = 0; i < fs->env->n && SUCCEEDED(hr); i++) {
        host_entry *e = &fs->env->entries[i];
        if (!e->has_pending)
            continue;
        hr = VariantCopy(&e->committed, &e->pending);
        VariantClear(&e->pending);
        e->has_pending = 0;
    }
    ReleaseSRWLockExclusive(&fs->env->lock);
    if (SUCCEEDED(hr))
        host_message_note_update(fs->owner);
    return hr;
}

static HRESULT WINAPI fields_CancelUpdate(Fields *self)
{
    host_fields *fs = fields_from(self);
    AcquireSRWLockExclusive(&fs->env->lock);
    for (int i = 0; i < fs->env->n; i++) {
        VariantClear(&fs->env->entries[i].pending);
        fs->env->entries[i].has_pending = 0;
    }
    ReleaseSRWLockExclusive(&fs->env->lock);
    return S_OK;
}

/* Members the sink never calls: E_NOTIMPL, as a host would answer for a
 * feature it lacks. */
static HRESULT WINAPI fields_GetTypeInfoCount(Fields *self, UINT *pctinfo) { return E_NOTIMPL; }
static HRESULT WINAPI fields_GetTypeInfo(Fields *self, UINT iTInfo, LCID lcid, ITypeInfo **ppTInfo)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI fields_GetIDsOfNames(Fields *self, REFIID riid, LPOLESTR *rgszNames,
                                           UINT cNames, LCID lcid, DISPID *rgDispId)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI fields_Invoke(Fields *self, DISPID dispIdMember, REFIID riid, LCID lcid,
                                    WORD wFlags, DISPPARAMS *pDispParams, VARIANT *pVarResult,
                                    EXCEPINFO *pExcepInfo, UINT *puArgErr)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI fields_NewEnum(Fields *self, IUnknown **ppvObject) { return E_NOTIMPL; }
static HRESULT WINAPI fields_Refresh(Fields *self) { return E_NOTIMPL; }
static HRESULT WINAPI fields_legacyAppend(Fields *self, BSTR Name, DataTypeEnum Type,
                                          ADO_LONGPTR DefinedSize, FieldAttributeEnum Attrib)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI fields_Delete(Fields *self, VARIANT Index) { return E_NOTIMPL; }
static HRESULT WINAPI fields_Append(Fields *self, BSTR Name, DataTypeEnum Type,
                                    ADO_LONGPTR DefinedSize, FieldAttributeEnum Attrib,
                                    VARIANT FieldValue)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI fields_Resync(Fields *self, ResyncEnum ResyncValues) { return E_NOTIMPL; }

static const FieldsVtbl fields_vtbl = {
    fields_QueryInterface, fields_AddRef,        fields_Release,  fields_GetTypeInfoCount,
    fields_GetTypeInfo,    fields_GetIDsOfNames, fields_Invoke,   fields_get_Count,
    fields_NewEnum,        fields_Refresh,       fields_get_Item, fields_legacyAppend,
    fields_Delete,         fields_Append,        fields_Update,   fields_Resync,
    fields_CancelUpdate,
};

HRESULT host_fields_create(host_message *owner, host_envelope *env, Fields **out)
{
    host_fields *f = calloc(1, sizeof *f);
    if (!f)
        return E_OUTOFMEMORY;
    f->iface.lpVtbl = &fields_vtbl;
    f->refs = 1;
    f->owner = owner;
    f->env = env;
    host_message_add_ref(owner);
    host_object_created();
    *out = &f->iface;
    return S_OK;
}
