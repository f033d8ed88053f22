/* host_message: STAND-IN for the IMessage the SMTP service passes to
 * OnArrival, for the sink tests under Wine (whose cdosys is a stub). It
 * owns the envelope fields (sender, recipientlist, messagestatus), the
 * message's own fields (Message-ID) and the message bytes, and counts what
 * the sink committed. */
#include "host.h"

#include <cdosysstr.h>
#include <stdlib.h>
#include <string.h>

struct host_message {
    IMessage iface;
    volatile LONG refs;
    host_envelope *envelope;
    host_envelope *fields;
    unsigned char *bytes;
    size_t len;
    volatile LONG updates;
    volatile LONG fail_update;
    volatile LONG fail_stream;
};

static volatile LONG objects_alive;

void host_object_created(void) { InterlockedIncrement(&objects_alive); }
void host_object_destroyed(void) { InterlockedDecrement(&objects_alive); }
LONG host_objects_alive(void) { return InterlockedCompareExchange(&objects_alive, 0, 0); }

static host_message *message_from(IMessage *m) { return (host_message *)m; }

static HRESULT WINAPI message_QueryInterface(IMessage *self, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch) ||
        IsEqualIID(riid, &IID_IMessage)) {
        *ppv = self;
        IMessage_AddRef(self);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI message_AddRef(IMessage *self)
{
    return (ULONG)InterlockedIncrement(&message_from(self)->refs);
}

static ULONG WINAPI message_Release(IMessage *self)
{
    host_message *m = message_from(self);
    LONG refs = InterlockedDecrement(&m->refs);
    if (refs == 0) {
        host_envelope_free(m->envelope);
        host_envelope_free(m->fields);
        free(m->bytes);
        free(m);
        host_object_destroyed();
    }
    return (ULONG)refs;
}

static HRESULT WINAPI message_get_EnvelopeFields(IMessage *self, Fields **out)
{
    if (!out)
        return E_POINTER;
    return host_fields_create(message_from(self), message_from(self)->envelope, out);
}

static HRESULT WINAPI message_get_Fields(IMessage *self, Fields **out)
{
    if (!out)
        return E_POINTER;
    return host_fields_create(message_from(self), message_from(self)->fields, out);
}

static HRESULT WINAPI message_GetStream(IMessage *self, _Stream **out)
{
    host_message *m = message_from(self);
    HRESULT hr = (HRESULT)InterlockedCompareExchange(&m->fail_stream, 0, 0);
    if (!out)
        return E_POINTER;
    *out = NULL;
    if (FAILED(hr))
        return hr;
    return host_stream_create(m->bytes, m->len, out);
}

/* Members the sink never calls: E_NOTIMPL, as a host would answer for a
 * feature it lacks. */
static HRESULT WINAPI message_GetTypeInfoCount(IMessage *self, UINT *pctinfo) { return E_NOTIMPL; }
static HRESULT WINAPI message_GetTypeInfo(IMessage *self, UINT iTInfo, LCID lcid,
                                          ITypeInfo **ppTInfo)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_GetIDsOfNames(IMessage *self, REFIID riid, LPOLESTR *rgszNames,
                                            UINT cNames, LCID lcid, DISPID *rgDispId)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_Invoke(IMessage *self, DISPID dispIdMember, REFIID riid, LCID lcid,
                                     WORD wFlags, DISPPARAMS *pDispParams, VARIANT *pVarResult,
                                     EXCEPINFO *pExcepInfo, UINT *puArgErr)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_BCC(IMessage *self, BSTR *pBCC) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_BCC(IMessage *self, BSTR varBCC) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_CC(IMessage *self, BSTR *pCC) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_CC(IMessage *self, BSTR varCC) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_FollowUpTo(IMessage *self, BSTR *pFollowUpTo)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_FollowUpTo(IMessage *self, BSTR varFollowUpTo)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_From(IMessage *self, BSTR *pFrom) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_From(IMessage *self, BSTR varFrom) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_Keywords(IMessage *self, BSTR *pKeywords) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_Keywords(IMessage *self, BSTR varKeywords) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_MimeFormatted(IMessage *self, VARIANT_BOOL *pMimeFormatted)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_MimeFormatted(IMessage *self, VARIANT_BOOL varMimeFormatted)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_Newsgroups(IMessage *self, BSTR *pNewsgroups)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_Newsgroups(IMessage *self, BSTR varNewsgroups)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_Organization(IMessage *self, BSTR *pOrganization)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_Organization(IMessage *self, BSTR varOrganization)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_ReceivedTime(IMessage *self, DATE *varReceivedTime)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_ReplyTo(IMessage *self, BSTR *pReplyTo) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_ReplyTo(IMessage *self, BSTR varReplyTo) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_DSNOptions(IMessage *self, CdoDSNOptions *pDSNOptions)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_DSNOptions(IMessage *self, CdoDSNOptions varDSNOptions)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_SentOn(IMessage *self, DATE *varSentOn) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_Subject(IMessage *self, BSTR *pSubject) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_Subject(IMessage *self, BSTR varSubject) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_To(IMessage *self, BSTR *pTo) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_To(IMessage *self, BSTR varTo) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_TextBody(IMessage *self, BSTR *pTextBody) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_TextBody(IMessage *self, BSTR varTextBody) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_HTMLBody(IMessage *self, BSTR *pHTMLBody) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_HTMLBody(IMessage *self, BSTR varHTMLBody) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_Attachments(IMessage *self, IBodyParts **varAttachments)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_Sender(IMessage *self, BSTR *pSender) { return E_NOTIMPL; }
static HRESULT WINAPI message_put_Sender(IMessage *self, BSTR varSender) { return E_NOTIMPL; }
static HRESULT WINAPI message_get_Configuration(IMessage *self, IConfiguration **pConfiguration)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_Configuration(IMessage *self, IConfiguration *varConfiguration)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_putref_Configuration(IMessage *self, IConfiguration *varConfiguration)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_AutoGenerateTextBody(IMessage *self,
                                                       VARIANT_BOOL *pAutoGenerateTextBody)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_AutoGenerateTextBody(IMessage *self,
                                                       VARIANT_BOOL varAutoGenerateTextBody)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_TextBodyPart(IMessage *self, IBodyPart **varTextBodyPart)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_HTMLBodyPart(IMessage *self, IBodyPart **varHTMLBodyPart)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_BodyPart(IMessage *self, IBodyPart **varBodyPart)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_DataSource(IMessage *self, IDataSource **varDataSource)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_get_MDNRequested(IMessage *self, VARIANT_BOOL *pMDNRequested)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_put_MDNRequested(IMessage *self, VARIANT_BOOL varMDNRequested)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_AddRelatedBodyPart(IMessage *self, BSTR URL, BSTR Reference,
                                                 CdoReferenceType ReferenceType, BSTR UserName,
                                                 BSTR Password, IBodyPart **ppBody)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_AddAttachment(IMessage *self, BSTR URL, BSTR UserName, BSTR Password,
                                            IBodyPart **ppBody)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_CreateMHTMLBody(IMessage *self, BSTR URL, CdoMHTMLFlags Flags,
                                              BSTR UserName, BSTR Password)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI message_Forward(IMessage *self, IMessage **ppMsg) { return E_NOTIMPL; }
static HRESULT WINAPI message_Post(IMessage *self) { return E_NOTIMPL; }
static HRESULT WINAPI message_PostReply(IMessage *self, IMessage **ppMsg) { return E_NOTIMPL; }
static HRESULT WINAPI message_Reply(IMessage *self, IMessage **ppMsg) { return E_NOTIMPL; }
static HRESULT WINAPI message_ReplyAll(IMessage *self, IMessage **ppMsg) { return E_NOTIMPL; }
static HRESULT WINAPI message_Send(IMessage *self) { return E_NOTIMPL; }
static HRESULT WINAPI message_GetInterface(IMessage *self, BSTR Interface, IDispatch **ppUnknown)
{
    return E_NOTIMPL;
}

static const IMessageVtbl message_vtbl = {
    message_QueryInterface,
    message_AddRef,
    message_Release,
    message_GetTypeInfoCount,
    message_GetTypeInfo,
    message_GetIDsOfNames,
    message_Invoke,
    message_get_BCC,
    message_put_BCC,
    message_get_CC,
    message_put_CC,
    message_get_FollowUpTo,
    message_put_FollowUpTo,
    message_get_From,
    message_put_From,
    message_get_Keywords,
    message_put_Keywords,
    message_get_MimeFormatted,
    message_put_MimeFormatted,
    message_get_Newsgroups,
    message_put_Newsgroups,
    message_get_Organization,
    message_put_Organization,
    message_get_ReceivedTime,
    message_get_ReplyTo,
    message_put_ReplyTo,
    message_get_DSNOptions,
    message_put_DSNOptions,
    message_get_SentOn,
    message_get_Subject,
    message_put_Subject,
    message_get_To,
    message_put_To,
    message_get_TextBody,
    message_put_TextBody,
    message_get_HTMLBody,
    message_put_HTMLBody,
    message_get_Attachments,
    message_get_Sender,
    message_put_Sender,
    message_get_Configuration,
    message_put_Configuration,
    message_putref_Configuration,
    message_get_AutoGenerateTextBody,
    message_put_AutoGenerateTextBody,
    message_get_EnvelopeFields,
    message_get_TextBodyPart,
    message_get_HTMLBodyPart,
    message_get_BodyPart,
    message_get_DataSource,
    message_get_Fields,
    message_get_MDNRequested,
    message_put_MDNRequested,
    message_AddRelatedBodyPart,
    message_AddAttachment,
    message_CreateMHTMLBody,
    message_Forward,
    message_Post,
    message_PostReply,
    message_Reply,
    message_ReplyAll,
    message_Send,
    message_GetStream,
    message_GetInterface,
};

static int set_string(host_envelope *env, const wchar_t *name, const char *utf8)
{
    VARIANT v;
    int n = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, NULL, 0), rc;
    if (n <= 0)
        return -1;
    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocStringLen(NULL, (UINT)(n - 1));
    if (!V_BSTR(&v))
        return -1;
    MultiByteToWideChar(CP_UTF8, 0, utf8, -1, V_BSTR(&v), n);
    rc = host_envelope_set(env, name, &v);
    VariantClear(&v);
    return rc;
}

static int set_i4(host_envelope *env, const wchar_t *name, LONG value)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_I4;
    V_I4(&v) = value;
    return host_envelope_set(env, name, &v);
}

host_message *host_message_new(const host_message_spec *spec)
{
    host_message *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->iface.lpVtbl = &message_vtbl;
    m->refs = 1;
    host_object_created();
    m->envelope = host_envelope_new();
    m->fields = host_envelope_new();
    m->len = spec->len;
    m->bytes = malloc(spec->len ? spec->len : 1);
    if (!m->envelope || !m->fields || !m->bytes ||
        set_string(m->envelope, cdoSenderEmailAddress, spec->sender) != 0 ||
        set_string(m->envelope, cdoRecipientList, spec->recipientlist) != 0 ||
        set_i4(m->envelope, cdoMessageStatus, cdoStatSuccess) != 0 ||
        (spec->message_id && set_string(m->fields, cdoMessageId, spec->message_id) != 0)) {
        message_Release(&m->iface);
        return NULL;
    }
    memcpy(m->bytes, spec->bytes, spec->len);
    return m;
}

IMessage *host_message_iface(host_message *m) { return &m->iface; }
void host_message_add_ref(host_message *m) { message_AddRef(&m->iface); }
void host_message_release(host_message *m) { message_Release(&m->iface); }

char *host_message_committed(host_message *m, const wchar_t *field)
{
    VARIANT v;
    char *out = NULL;
    VariantInit(&v);
    if (SUCCEEDED(host_envelope_committed(m->envelope, field, &v)) &&
        SUCCEEDED(VariantChangeType(&v, &v, 0, VT_BSTR))) {
        int n = WideCharToMultiByte(CP_UTF8, 0, V_BSTR(&v), -1, NULL, 0, NULL, NULL);
        if (n > 0 && (out = malloc((size_t)n)))
            WideCharToMultiByte(CP_UTF8, 0, V_BSTR(&v), -1, out, n, NULL, NULL);
    }
    VariantClear(&v);
    return out;
}

long host_message_status(host_message *m)
{
    VARIANT v;
    long status = -1;
    VariantInit(&v);
    if (SUCCEEDED(host_envelope_committed(m->envelope, cdoMessageStatus, &v)) &&
        SUCCEEDED(VariantChangeType(&v, &v, 0, VT_I4)))
        status = V_I4(&v);
    VariantClear(&v);
    return status;
}

int host_message_updates(host_message *m)
{
    return (int)InterlockedCompareExchange(&m->updates, 0, 0);
}
void host_message_note_update(host_message *m) { InterlockedIncrement(&m->updates); }
void host_message_fail_updates(host_message *m, HRESULT hr)
{
    InterlockedExchange(&m->fail_update, hr);
}
void host_message_fail_stream(host_message *m, HRESULT hr)
{
    InterlockedExchange(&m->fail_stream, hr);
}

HRESULT host_message_update_result(host_message *m)
{
    return (HRESULT)InterlockedCompareExchange(&m->fail_update, 0, 0);
}

void host_windows_path(const char *unix_path, wchar_t *out, size_t len)
{
    /* Wine maps drive Z: to the Linux root. */
    size_t i = 0;
    if (unix_path[0] == '/' && len > 2) {
        out[i++] = L'Z';
        out[i++] = L':';
    }
    for (; *unix_path && i + 1 < len; unix_path++)
        out[i++] = *unix_path == '/' ? L'\\' : (wchar_t)(unsigned char)*unix_path;
    out[i] = L'\0';
}
