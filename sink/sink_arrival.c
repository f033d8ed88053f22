/* sink_arrival: one message through the sink.
 *
 * Read the envelope (sender, recipientlist) and the message bytes through
 * CDO, let the engine decide and write the pickup file for the recipients
 * that go plain, and only when that file is in place take those recipients
 * off this message (or abort its delivery here when none is left) and
 * commit with Fields.Update. Every other outcome leaves the message exactly
 * as it came, so it goes out the TLS way: never lost, never sent twice. */
#include "sink.h"
#include "sink_event.h"
#include "sink_route.h"
#include "tlsrouter_msg.h"

#include "probe.h"
#include "rcptlist.h"

#include <cdosysstr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* IIS's own default size limit is 2 MB; this ceiling only guards the
 * process against a stream that claims to be absurdly large. */
#define SINK_MAX_MESSAGE (256L * 1024L * 1024L)
/* Envelope strings: a recipient list of RCPTLIST_MAX_RECIPIENTS addresses. */
#define SINK_MAX_FIELD (RCPTLIST_MAX_TEXT)
#define SINK_ERR 512
/* The hand-off summary in the Event Log lists recipients up to this size. */
#define SINK_SUMMARY_MAX 3000

typedef struct {
    Fields *envelope;
    char *sender;
    char *recipient_text;
    char *message_id;
    rcptlist recipients;
    unsigned char *bytes;
    size_t len;
    char err[SINK_ERR];
} arrival;

static void set_hr_error(arrival *a, const char *what, HRESULT hr)
{
    snprintf(a->err, sizeof a->err, "%s failed (HRESULT 0x%08lX)", what, (unsigned long)hr);
}

/* A BSTR as a malloc'd UTF-8 string of at most max bytes; NULL if longer or
 * out of memory. */
static char *narrow_bstr(BSTR b, size_t max)
{
    int wlen = (int)SysStringLen(b);
    int n;
    char *s;
    if (wlen == 0)
        return calloc(1, 1);
    n = WideCharToMultiByte(CP_UTF8, 0, b, wlen, NULL, 0, NULL, NULL);
    if (n <= 0 || (size_t)n > max)
        return NULL;
    s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    if (WideCharToMultiByte(CP_UTF8, 0, b, wlen, s, n, NULL, NULL) != n) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

static HRESULT get_field(Fields *fields, const wchar_t *name, Field **field)
{
    VARIANT key;
    HRESULT hr;
    VariantInit(&key);
    V_VT(&key) = VT_BSTR;
    V_BSTR(&key) = SysAllocString(name);
    if (!V_BSTR(&key))
        return E_OUTOFMEMORY;
    *field = NULL;
    hr = Fields_get_Item(fields, key, field);
    VariantClear(&key);
    if (SUCCEEDED(hr) && !*field)
        hr = E_POINTER;
    return hr;
}

/* The field's value as UTF-8 ("" for an empty or null value). */
static HRESULT read_string_field(Fields *fields, const wchar_t *name, char **out)
{
    Field *field;
    VARIANT v;
    HRESULT hr = get_field(fields, name, &field);
    *out = NULL;
    if (FAILED(hr))
        return hr;
    VariantInit(&v);
    hr = Field_get_Value(field, &v);
    Field_Release(field);
    if (FAILED(hr))
        return hr;
    if (V_VT(&v) == VT_EMPTY || V_VT(&v) == VT_NULL) {
        *out = calloc(1, 1);
        return *out ? S_OK : E_OUTOFMEMORY;
    }
    hr = VariantChangeType(&v, &v, 0, VT_BSTR);
    if (SUCCEEDED(hr) && SysStringLen(V_BSTR(&v)) > SINK_MAX_FIELD)
        hr = HRESULT_FROM_WIN32(ERROR_BUFFER_OVERFLOW); /* refuse, never truncate */
    else if (SUCCEEDED(hr) && !(*out = narrow_bstr(V_BSTR(&v), SINK_MAX_FIELD)))
        hr = E_OUTOFMEMORY;
    VariantClear(&v);
    return hr;
}

static HRESULT write_field(Fields *fields, const wchar_t *name, VARIANT value)
{
    Field *field;
    HRESULT hr = get_field(fields, name, &field);
    if (FAILED(hr))
        return hr;
    hr = Field_put_Value(field, value);
    Field_Release(field);
    return hr;
}

static HRESULT write_string_field(Fields *fields, const wchar_t *name, const char *utf8)
{
    VARIANT v;
    HRESULT hr;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
    if (n <= 0)
        return E_INVALIDARG;
    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocStringLen(NULL, (UINT)(n - 1));
    if (!V_BSTR(&v))
        return E_OUTOFMEMORY;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, V_BSTR(&v), n);
    hr = write_field(fields, name, v);
    VariantClear(&v);
    return hr;
}

/* Late-bound calls on the message stream. The ADO Stream's vtable differs
 * between ADO releases on x64 (Size and Position are 32 or 64 bits wide
 * depending on the headers it was built from), so the sink talks to it
 * through IDispatch, which is the same everywhere. */
static HRESULT stream_invoke(IDispatch *stream, const wchar_t *name, WORD flags, VARIANT *args,
                             UINT nargs, VARIANT *result)
{
    DISPID id, put_id = DISPID_PROPERTYPUT;
    DISPPARAMS params = { args, NULL, nargs, 0 };
    LPOLESTR names[1] = { (LPOLESTR)name };
    HRESULT hr = IDispatch_GetIDsOfNames(stream, &IID_NULL, names, 1, LOCALE_USER_DEFAULT, &id);
    if (FAILED(hr))
        return hr;
    if (flags == DISPATCH_PROPERTYPUT) {
        params.rgdispidNamedArgs = &put_id;
        params.cNamedArgs = 1;
    }
    return IDispatch_Invoke(stream, id, &IID_NULL, LOCALE_USER_DEFAULT, flags, &params, result,
                            NULL, NULL);
}

static HRESULT stream_put_i4(IDispatch *stream, const wchar_t *name, LONG value)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_I4;
    V_I4(&v) = value;
    return stream_invoke(stream, name, DISPATCH_PROPERTYPUT, &v, 1, NULL);
}

static HRESULT stream_size(IDispatch *stream, LONGLONG *size)
{
    VARIANT v;
    HRESULT hr;
    VariantInit(&v);
    hr = stream_invoke(stream, L"Size", DISPATCH_PROPERTYGET, NULL, 0, &v);
    if (SUCCEEDED(hr))
        hr = VariantChangeType(&v, &v, 0, VT_I8);
    if (SUCCEEDED(hr))
        *size = V_I8(&v);
    VariantClear(&v);
    return hr;
}

/* Copy a one-dimensional byte array (what Stream.Read returns) into a. */
static HRESULT take_byte_array(VARIANT *v, arrival *a)
{
    LONG lower = 0, upper = -1;
    void *data;
    HRESULT hr;
    if (V_VT(v) == VT_EMPTY || V_VT(v) == VT_NULL) { /* an empty stream */
        a->len = 0;
        a->bytes = malloc(1);
        return a->bytes ? S_OK : E_OUTOFMEMORY;
    }
    if (V_VT(v) != (VT_ARRAY | VT_UI1) || !V_ARRAY(v) || SafeArrayGetDim(V_ARRAY(v)) != 1)
        return DISP_E_TYPEMISMATCH;
    if (FAILED(hr = SafeArrayGetLBound(V_ARRAY(v), 1, &lower)) ||
        FAILED(hr = SafeArrayGetUBound(V_ARRAY(v), 1, &upper)))
        return hr;
    a->len = upper >= lower ? (size_t)((LONGLONG)upper - lower) + 1 : 0;
    if (a->len > (size_t)SINK_MAX_MESSAGE)
        return E_UNEXPECTED;
    if (!(a->bytes = malloc(a->len ? a->len : 1)))
        return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = SafeArrayAccessData(V_ARRAY(v), &data))) {
        memcpy(a->bytes, data, a->len);
        SafeArrayUnaccessData(V_ARRAY(v));
    }
    return hr;
}

/* The whole message, as the bytes IIS holds (headers and body). */
static HRESULT read_stream_bytes(IDispatch *stream, arrival *a)
{
    LONGLONG size = 0;
    VARIANT count, v;
    HRESULT hr;

    /* ADO lets the type change only at position 0. */
    if (FAILED(hr = stream_put_i4(stream, L"Position", 0)) ||
        FAILED(hr = stream_put_i4(stream, L"Type", adTypeBinary)) ||
        FAILED(hr = stream_size(stream, &size)))
        return hr;
    if (size < 0 || size > SINK_MAX_MESSAGE)
        return E_UNEXPECTED;
    VariantInit(&count);
    V_VT(&count) = VT_I4;
    V_I4(&count) = adReadAll;
    VariantInit(&v);
    hr = stream_invoke(stream, L"Read", DISPATCH_METHOD, &count, 1, &v);
    if (SUCCEEDED(hr))
        hr = take_byte_array(&v, a);
    VariantClear(&v);
    return hr;
}

static HRESULT read_message_bytes(IMessage *msg, arrival *a)
{
    _Stream *stream = NULL;
    HRESULT hr = IMessage_GetStream(msg, &stream);
    if (FAILED(hr))
        return hr;
    if (!stream)
        return E_POINTER;
    hr = read_stream_bytes((IDispatch *)stream, a); /* _Stream is a dual interface */
    _Stream_Release(stream);
    return hr;
}

/* The Message-ID header, for the journal and the log. Optional: a message
 * without one, or a host that cannot say, gets "". */
static void read_message_id(IMessage *msg, arrival *a)
{
    Fields *fields = NULL;
    if (SUCCEEDED(IMessage_get_Fields(msg, &fields)) && fields) {
        if (FAILED(read_string_field(fields, cdoMessageId, &a->message_id)))
            a->message_id = NULL;
        Fields_Release(fields);
    }
    if (!a->message_id)
        a->message_id = calloc(1, 1);
}

/* IIS gives the reverse path as a bare address, some hosts with the same
 * "SMTP:" prefix as the recipients: keep only the address. */
static void strip_sender_prefix(char *sender)
{
    if (_strnicmp(sender, "SMTP:", 5) == 0)
        memmove(sender, sender + 5, strlen(sender + 5) + 1);
}

/* Everything the decision needs. 0, or -1 with a->err set and the matching
 * message id in *log_id. */
static int read_envelope(IMessage *msg, arrival *a, DWORD *log_id)
{
    HRESULT hr;
    *log_id = MSG_MESSAGE_UNTOUCHED;
    read_message_id(msg, a);
    if (FAILED(hr = IMessage_get_EnvelopeFields(msg, &a->envelope)) || !a->envelope) {
        set_hr_error(a, "reading the envelope fields", FAILED(hr) ? hr : E_POINTER);
        a->envelope = NULL;
        return -1;
    }
    if (FAILED(hr = read_string_field(a->envelope, cdoSenderEmailAddress, &a->sender))) {
        set_hr_error(a, "reading senderemailaddress", hr);
        return -1;
    }
    strip_sender_prefix(a->sender);
    if (FAILED(hr = read_string_field(a->envelope, cdoRecipientList, &a->recipient_text))) {
        set_hr_error(a, "reading recipientlist", hr);
        return -1;
    }
    if (rcptlist_parse(a->recipient_text, &a->recipients, a->err, sizeof a->err) != 0) {
        *log_id = MSG_BAD_RECIPIENT_LIST;
        return -1;
    }
    if (a->recipients.n > 0 && FAILED(hr = read_message_bytes(msg, a))) {
        set_hr_error(a, "reading the message stream", hr);
        return -1;
    }
    return 0;
}

/* Take the plain recipients off the message, or abort its delivery here
 * when there is none left, and commit. Only called with the pickup file in
 * place. */
static HRESULT commit_handoff(arrival *a, const route_result *res, size_t *remaining_out)
{
    const char **keep = calloc(a->recipients.n, sizeof *keep);
    size_t remaining = 0;
    HRESULT hr;
    if (!keep)
        return E_OUTOFMEMORY;
    for (size_t i = 0; i < a->recipients.n; i++)
        if (!res->decisions[i].plain)
            keep[remaining++] = a->recipients.addrs[i];
    *remaining_out = remaining;
    if (remaining == 0) {
        VARIANT v;
        VariantInit(&v);
        V_VT(&v) = VT_I4;
        V_I4(&v) = cdoStatAbortDelivery;
        hr = write_field(a->envelope, cdoMessageStatus, v);
    } else {
        char *text = rcptlist_format(keep, remaining);
        hr = text ? write_string_field(a->envelope, cdoRecipientList, text) : E_OUTOFMEMORY;
        free(text);
    }
    free(keep);
    if (SUCCEEDED(hr))
        hr = Fields_Update(a->envelope);
    if (FAILED(hr))
        Fields_CancelUpdate(a->envelope); /* best effort: drop what was set */
    return hr;
}

/* The pickup file exists but this message could not be changed: take the
 * file back through the engine, which also puts the journal rows back on
 * TLS, so the recipients are neither served twice nor misreported. */
static void undo_pickup(arrival *a, route_result *res, const char *why)
{
    char outcome[SINK_ERR];
    char path[sizeof res->pickup_path];
    snprintf(path, sizeof path, "%s", res->pickup_path);
    if (sink_route_undo(res, why) == 0)
        snprintf(outcome, sizeof outcome,
                 "The pickup file was removed; the message is delivered unchanged by this virtual server.");
    else
        snprintf(outcome, sizeof outcome,
                 "The pickup file could not be removed, so its recipients may receive the message twice.");
    sink_log_event(SINK_LOG_ERROR, MSG_COMMIT_FAILED, 4, path, a->message_id, why, outcome);
}

/* The debug record of one decision, in the journal's words. */
static void log_decision(const route_decision *d)
{
    sink_log_event(SINK_LOG_DEBUG, MSG_DECISION, 5, d->recipient, d->domain,
                   d->plain ? "plain" : "tls", decide_reason_name(d->reason),
                   probe_status_name(d->status));
}

static void log_decisions(const arrival *a, const route_result *res, size_t remaining)
{
    char summary[SINK_SUMMARY_MAX] = "";
    char count[32];
    size_t used = 0, plain = a->recipients.n - remaining;
    DWORD msg_id;

    for (size_t i = 0; i < res->n; i++) {
        const route_decision *d = &res->decisions[i];
        const char *reason = decide_reason_name(d->reason);
        log_decision(d);
        if (!d->plain)
            continue;
        /* IIS's own words at info level; a list decision is in the summary. */
        msg_id = sink_plain_event(d->reason);
        sink_log_event(msg_id == MSG_ROUTED_PLAIN ? SINK_LOG_DEBUG : SINK_LOG_INFO, msg_id, 3,
                       d->recipient, d->domain, reason);
        if (used < sizeof summary) {
            int n = snprintf(summary + used, sizeof summary - used, "%s%s (%s)", used ? ", " : "",
                             d->recipient, reason);
            used = n > 0 ? used + (size_t)n : sizeof summary;
        }
    }
    snprintf(count, sizeof count, "%zu", plain);
    if (remaining == 0)
        sink_log_event(SINK_LOG_INFO, MSG_HANDED_OFF_ALL, 4, a->message_id, a->sender,
                       res->pickup_path, summary);
    else
        sink_log_event(SINK_LOG_INFO, MSG_HANDED_OFF, 5, count, a->message_id, a->sender,
                       res->pickup_path, summary);
}

/* The message came back from the Plain server (row 2): routing kept it
 * here; the administrator has a relay loop to fix. */
static void report_loop(const arrival *a, const route_result *res, int source_instance)
{
    char instance[16];
    snprintf(instance, sizeof instance, "%d", source_instance);
    sink_log_event(SINK_LOG_WARNING, MSG_LOOP_KEPT, 4, a->message_id, a->sender, res->trace_host,
                   instance);
}

static void route_and_commit(arrival *a, int source_instance)
{
    route_message rm;
    route_result res;
    int status = -1;
    size_t remaining = 0;
    HRESULT hr;

    memset(&res, 0, sizeof res);
    rm.message_id = a->message_id;
    rm.sender = a->sender;
    rm.recipients = (const char *const *)a->recipients.addrs;
    rm.n_recipients = a->recipients.n;
    rm.source_instance = source_instance;
    rm.message = a->bytes;
    rm.message_len = a->len;

    if (sink_route_run(&rm, &res, &status, a->err, sizeof a->err) != 0)
        return; /* no engine: already reported by sink_route */
    if (res.looped)
        report_loop(a, &res, source_instance);
    if (status != 0) {
        snprintf(a->err, sizeof a->err, "routing failed: %s", res.error[0] ? res.error : "unknown error");
        sink_log_event(SINK_LOG_ERROR, MSG_MESSAGE_UNTOUCHED, 2, a->message_id, a->err);
    } else if (res.handed_off && (res.n != a->recipients.n || !res.decisions)) {
        undo_pickup(a, &res, "the engine answered for a different number of recipients");
    } else if (res.handed_off) {
        if (FAILED(hr = commit_handoff(a, &res, &remaining))) {
            set_hr_error(a, "updating the envelope fields", hr);
            undo_pickup(a, &res, a->err);
        } else {
            log_decisions(a, &res, remaining);
        }
    } else if (res.decisions) {
        for (size_t i = 0; i < res.n; i++)
            log_decision(&res.decisions[i]);
    }
    route_result_free(&res);
}

static void arrival_free(arrival *a)
{
    if (a->envelope)
        Fields_Release(a->envelope);
    free(a->sender);
    free(a->recipient_text);
    free(a->message_id);
    rcptlist_free(&a->recipients);
    free(a->bytes);
}

void sink_arrival_process(IMessage *msg, int source_instance)
{
    arrival a;
    DWORD log_id;
    memset(&a, 0, sizeof a);
    if (read_envelope(msg, &a, &log_id) != 0)
        sink_log_event(SINK_LOG_ERROR, log_id, 2, a.message_id, a.err);
    else if (a.recipients.n > 0)
        route_and_commit(&a, source_instance);
    arrival_free(&a);
    /* The probes and guards may have run on this thread, which is IIS's:
     * their OpenSSL state is freed here, and only if there is any (a
     * message answered from the caches made none). */
    probe_thread_cleanup();
}
