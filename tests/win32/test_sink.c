/* The sink DLL under Wine, driven the way IIS SMTP drives it: registered
 * with regsvr32, created by ProgID through COM, and handed messages through
 * the CDO interfaces. Wine's cdosys is a stub, so the messages come from
 * tests/win32/host, a test host that STANDS IN for the SMTP service with its
 * own IMessage, Fields, Field and ADO Stream objects. Routing is the real
 * engine on a real SQLite database with rules whose domain lists decide
 * without the network; hand-offs land in a real pickup folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host.h"

#include <cdosysstr.h>

#include "dnsd.h"
#include "peer.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

#include <sqlite3.h>
#include "decide.h"
#include "sink_event.h"
#include "tlsrouter_msg.h"

#define SINK_PROGID L"TLSRouter.Sink"
#define SINK_CLSID_TEXT L"{06A27498-A1AB-4DCB-9627-375712DCA6C6}"
#define THREADS 8
#define THREAD_DEADLINE_MS 60000

static const char message_text[] = "From: sender@src.test\r\n"
                                   "To: several\r\n"
                                   "Subject: sink test\r\n"
                                   "Message-ID: <sink-test@src.test>\r\n"
                                   "\r\n"
                                   "Hello through the sink.\r\n";

static struct {
    wchar_t dll[MAX_PATH];
    char dir[PLAT_PATH_MAX];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
} fx;

typedef HRESULT(WINAPI *can_unload_fn)(void);

/* DllCanUnloadNow of the copy of the DLL that COM loaded into us. */
static HRESULT sink_can_unload(void)
{
    HMODULE module = GetModuleHandleW(L"tlsrouter_sink.dll");
    can_unload_fn fn;
    assert_non_null(module);
    fn = (can_unload_fn)(void (*)(void))GetProcAddress(module, "DllCanUnloadNow");
    assert_non_null(fn);
    return fn();
}

static ISMTPOnArrival *create_sink(void)
{
    CLSID clsid;
    ISMTPOnArrival *sink = NULL;
    assert_int_equal(CLSIDFromProgID(SINK_PROGID, &clsid), S_OK);
    assert_int_equal(CoCreateInstance(&clsid, NULL, CLSCTX_INPROC_SERVER, &IID_ISMTPOnArrival,
                                      (void **)&sink),
                     S_OK);
    assert_non_null(sink);
    return sink;
}

static host_message *new_message_from(const char *sender, const char *recipientlist)
{
    host_message_spec spec = { sender, recipientlist, "<sink-test@src.test>", message_text,
                               sizeof message_text - 1 };
    host_message *m = host_message_new(&spec);
    assert_non_null(m);
    return m;
}

static host_message *new_message(const char *recipientlist)
{
    return new_message_from("sender@src.test", recipientlist);
}

/* OnArrival as the SMTP service calls it: S_OK and "run the next sink"
 * whatever happened inside. */
static void deliver(ISMTPOnArrival *sink, host_message *m)
{
    CdoEventStatus status = cdoSkipRemainingSinks;
    assert_int_equal(ISMTPOnArrival_OnArrival(sink, host_message_iface(m), &status), S_OK);
    assert_int_equal(status, cdoRunNextSink);
}

static void assert_untouched(host_message *m, const char *recipientlist)
{
    char *rcpt = host_message_committed(m, cdoRecipientList);
    assert_int_equal(host_message_updates(m), 0);
    assert_non_null(rcpt);
    assert_string_equal(rcpt, recipientlist);
    assert_int_equal(host_message_status(m), cdoStatSuccess);
    free(rcpt);
}

static int pickup_count(void)
{
    char **paths;
    int n = host_list_files(fx.pickup, &paths);
    assert_true(n >= 0);
    host_free_list(paths, n);
    return n;
}

/* Append n bytes of s (and a ',' first unless out is empty), bounded. */
static void append_item(char *out, size_t len, const char *s, size_t n)
{
    size_t used = strlen(out);
    if (used && used + 1 < len)
        out[used++] = ',';
    if (n > len - used - 1)
        n = len - used - 1;
    memcpy(out + used, s, n);
    out[used + n] = '\0';
}

/* Past our trace line, which closes the envelope: "Received: by ...",
 * folded, up to the CRLF not followed by a space or tab. */
static char *skip_trace(char *line)
{
    char *end;
    assert_true(strncmp(line, "Received: by ", 13) == 0);
    assert_non_null(strstr(line, "(TLS Router "));
    for (end = strstr(line, "\r\n"); end && (end[2] == ' ' || end[2] == '\t');
         end = strstr(end + 2, "\r\n"))
        ;
    assert_non_null(end);
    return end + 2;
}

/* The one pickup file: its x-receiver lines (joined with ',') and the
 * message that follows the x- header lines and our trace. */
static void read_single_pickup(char *receivers, size_t rlen, char **body)
{
    char **paths;
    int n = host_list_files(fx.pickup, &paths);
    char *text, *line;
    assert_int_equal(n, 1);
    text = host_read_file(paths[0], NULL);
    assert_non_null(text);
    host_free_list(paths, n);
    receivers[0] = '\0';
    assert_true(strncmp(text, "x-sender:", 9) == 0);
    line = text;
    while (strncmp(line, "x-", 2) == 0) {
        char *end = strstr(line, "\r\n");
        assert_non_null(end);
        if (strncmp(line, "x-receiver:", 11) == 0) {
            const char *v = line + 11;
            while (*v == ' ' || *v == '<')
                v++;
            size_t vlen = (size_t)(end - v);
            while (vlen > 0 && v[vlen - 1] == '>')
                vlen--;
            append_item(receivers, rlen, v, vlen);
        }
        line = end + 2;
    }
    *body = _strdup(skip_trace(line));
    free(text);
}

/* What the Plain server sends on from the one pickup file: everything
 * after the x- lines, our trace on top. */
static char *single_pickup_message(void)
{
    char **paths;
    int n = host_list_files(fx.pickup, &paths);
    char *text, *line, *out;
    assert_int_equal(n, 1);
    text = host_read_file(paths[0], NULL);
    assert_non_null(text);
    host_free_list(paths, n);
    for (line = text; strncmp(line, "x-", 2) == 0;) {
        char *end = strstr(line, "\r\n");
        assert_non_null(end);
        line = end + 2;
    }
    out = _strdup(line);
    free(text);
    assert_non_null(out);
    return out;
}

static int setup_routing(void);
/* Rows of the database's log table at level whose message contains text. */
/* count(*) of a query with two text parameters, on the test database. */
static int count_rows(const char *sql, const char *p1, const char *p2)
{
    char err[256];
    store *db = NULL;
    sqlite3_stmt *st;
    int n = -1;
    assert_int_equal(store_open(fx.db, &db, err, sizeof err), STORE_OK);
    if (sqlite3_prepare_v2(store_db(db), sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    store_close(db);
    return n;
}

static int log_rows(int level, const char *text)
{
    char lv[16], like[512];
    snprintf(lv, sizeof lv, "%d", level);
    snprintf(like, sizeof like, "%%%s%%", text);
    return count_rows("SELECT count(*) FROM log WHERE level = CAST(?1 AS INTEGER) AND message LIKE ?2",
                      lv, like);
}

/* Journal rows of one recipient on one route. */
static int journal_rows(const char *recipient, const char *route)
{
    return count_rows("SELECT count(*) FROM journal WHERE recipient = ?1 AND route = ?2",
                      recipient, route);
}

/* Journal rows of one recipient from one virtual server. */
static int journal_rows_of_server(const char *recipient, const char *instance)
{
    return count_rows("SELECT count(*) FROM journal WHERE recipient = ?1"
                      " AND source_instance = CAST(?2 AS INTEGER)", recipient, instance);
}

static int group_setup(void **state)
{
    char dll[MAX_PATH * 2];
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return -1;
    snprintf(dll, sizeof dll, "%s", TR_TEST_SINK_DLL);
    host_windows_path(dll, fx.dll, MAX_PATH);
    if (trtest_temp_dir("sink", fx.dir, sizeof fx.dir) != 0)
        return -1;
    snprintf(fx.db, sizeof fx.db, "%s\\tlsrouter.db", fx.dir);
    snprintf(fx.pickup, sizeof fx.pickup, "%s\\Pickup", fx.dir);
    if (plat_mkdir(fx.pickup) != 0)
        return -1;
    if (_putenv_s("TLSROUTER_DB", fx.db) != 0)
        return -1;
    if (setup_routing() != 0)
        return -1;
    return host_regsvr32(fx.dll, 0) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    CoFreeUnusedLibraries();
    CoUninitialize();
    return 0;
}

/* Each test starts with an empty pickup folder and ends with every stand-in
 * object it made released again (the sink keeps no reference). Counted
 * from the test's start, so one failure does not fail the tests after it. */
static LONG objects_at_start;

static int test_setup(void **state)
{
    plat_mkdir(fx.pickup);
    host_empty_dir(fx.pickup);
    objects_at_start = host_objects_alive();
    return 0;
}

static int test_teardown(void **state)
{
    if (host_objects_alive() != objects_at_start) {
        print_error("stand-in objects still referenced: %ld\n",
                    (long)(host_objects_alive() - objects_at_start));
        return -1;
    }
    return 0;
}

static void read_reg_string(HKEY root, const wchar_t *key, const wchar_t *name, wchar_t *out,
                            DWORD bytes)
{
    assert_int_equal(RegGetValueW(root, key, name, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ |
                                                       RRF_NOEXPAND, NULL, out, &bytes),
                     ERROR_SUCCESS);
}

static void test_registration(void **state)
{
    wchar_t value[MAX_PATH * 2];
    CLSID clsid, expected;
    assert_int_equal(CLSIDFromString(SINK_CLSID_TEXT, &expected), S_OK);
    assert_int_equal(CLSIDFromProgID(SINK_PROGID, &clsid), S_OK);
    assert_true(IsEqualCLSID(&clsid, &expected));
    assert_int_equal(CLSIDFromProgID(SINK_PROGID L".1", &clsid), S_OK);
    assert_true(IsEqualCLSID(&clsid, &expected));

    read_reg_string(HKEY_CLASSES_ROOT, L"CLSID\\" SINK_CLSID_TEXT L"\\InprocServer32",
                    L"ThreadingModel", value, sizeof value);
    assert_true(wcscmp(value, L"Both") == 0);
    read_reg_string(HKEY_CLASSES_ROOT, L"CLSID\\" SINK_CLSID_TEXT L"\\InprocServer32", NULL, value,
                    sizeof value);
    assert_true(_wcsicmp(value, fx.dll) == 0);
    read_reg_string(HKEY_CLASSES_ROOT, SINK_PROGID L"\\CurVer", NULL, value, sizeof value);
    assert_true(wcscmp(value, SINK_PROGID L".1") == 0);
    read_reg_string(HKEY_LOCAL_MACHINE,
                    L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\TLS Router",
                    L"EventMessageFile", value, sizeof value);
    assert_true(_wcsicmp(value, fx.dll) == 0);
}

static void test_interfaces(void **state)
{
    ISMTPOnArrival *sink = create_sink();
    IUnknown *cacheable = NULL, *persist = NULL, *unknown = NULL, *outer;
    CLSID clsid;
    /* IEventIsCacheable {22E0F830-1E81-11D1-AA29-00AA006BC80B}: IsCacheable
     * is its only method, fourth in the vtable, and answers S_OK. */
    static const IID iid_cacheable = { 0x22e0f830, 0x1e81, 0x11d1,
                                       { 0xaa, 0x29, 0x00, 0xaa, 0x00, 0x6b, 0xc8, 0x0b } };
    typedef HRESULT(WINAPI * is_cacheable_fn)(IUnknown *);

    assert_int_equal(ISMTPOnArrival_QueryInterface(sink, &iid_cacheable, (void **)&cacheable), S_OK);
    assert_int_equal(((is_cacheable_fn)((void **)cacheable->lpVtbl)[3])(cacheable), S_OK);
    assert_int_equal(ISMTPOnArrival_QueryInterface(sink, &IID_IPersistPropertyBag, (void **)&persist),
                     S_OK);
    assert_int_equal(ISMTPOnArrival_QueryInterface(sink, &IID_IUnknown, (void **)&unknown), S_OK);
    assert_int_equal(ISMTPOnArrival_QueryInterface(sink, &IID_IClassFactory, (void **)&outer),
                     E_NOINTERFACE);
    IUnknown_Release(cacheable);
    IUnknown_Release(persist);
    /* No aggregation. */
    assert_int_equal(CLSIDFromProgID(SINK_PROGID, &clsid), S_OK);
    outer = unknown;
    assert_int_equal(CoCreateInstance(&clsid, outer, CLSCTX_INPROC_SERVER, &IID_IUnknown,
                                      (void **)&persist),
                     CLASS_E_NOAGGREGATION);
    IUnknown_Release(unknown);
    /* A NULL message or status must not bring the host down. */
    assert_int_equal(ISMTPOnArrival_OnArrival(sink, NULL, NULL), S_OK);
    ISMTPOnArrival_Release(sink);
}

static void test_all_tls_untouched(void **state)
{
    const char *list = "SMTP:a@tls.test;SMTP:b@tls.test;";
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message(list);
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(pickup_count(), 0);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

static void test_all_plain_aborted(void **state)
{
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message("SMTP:a@x.plain.test;SMTP:b@y.plain.test;");
    char receivers[512], *body, *rcpt;
    deliver(sink, m);
    assert_int_equal(host_message_updates(m), 1);
    assert_int_equal(host_message_status(m), cdoStatAbortDelivery);
    /* The list itself is left alone; the status keeps the message from
     * going out here. */
    rcpt = host_message_committed(m, cdoRecipientList);
    assert_string_equal(rcpt, "SMTP:a@x.plain.test;SMTP:b@y.plain.test;");
    free(rcpt);
    read_single_pickup(receivers, sizeof receivers, &body);
    assert_string_equal(receivers, "a@x.plain.test,b@y.plain.test");
    assert_string_equal(body, message_text);
    free(body);
    assert_true(log_rows(2, "handed every recipient of message <sink-test@src.test> from "
                            "sender@src.test to the Plain TCP server") >= 1);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

static void test_mixed_removes_exactly_plain(void **state)
{
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message(
        "SMTP:a@x.plain.test;SMTP:keep1@tls.test;smtp:b@y.plain.test;SMTP:\"k;2\"@tls.test;");
    char receivers[512], *body, *rcpt;
    deliver(sink, m);
    assert_int_equal(host_message_updates(m), 1);
    assert_int_equal(host_message_status(m), cdoStatSuccess);
    rcpt = host_message_committed(m, cdoRecipientList);
    assert_string_equal(rcpt, "SMTP:keep1@tls.test;SMTP:\"k;2\"@tls.test;");
    free(rcpt);
    read_single_pickup(receivers, sizeof receivers, &body);
    assert_string_equal(receivers, "a@x.plain.test,b@y.plain.test");
    assert_string_equal(body, message_text);
    free(body);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

/* A reverse path given with the "SMTP:" prefix reaches the pickup file as
 * the bare address. */
static void test_sender_prefix_stripped(void **state)
{
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message_from("SMTP:Bounce.Handler@src.test", "SMTP:a@x.plain.test;");
    char **paths, *text;
    int n;
    deliver(sink, m);
    assert_int_equal(host_message_status(m), cdoStatAbortDelivery);
    n = host_list_files(fx.pickup, &paths);
    assert_int_equal(n, 1);
    text = host_read_file(paths[0], NULL);
    host_free_list(paths, n);
    assert_non_null(text);
    assert_true(strncmp(text, "x-sender: Bounce.Handler@src.test\r\n", 35) == 0 ||
                strncmp(text, "x-sender: <Bounce.Handler@src.test>\r\n", 37) == 0);
    free(text);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

static void test_pickup_failure_untouched(void **state)
{
    const char *list = "SMTP:a@x.plain.test;SMTP:keep@tls.test;";
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message(list);
    wchar_t wpickup[MAX_PATH];
    MultiByteToWideChar(CP_UTF8, 0, fx.pickup, -1, wpickup, MAX_PATH);
    int before = log_rows(0, "left message <sink-test@src.test> unchanged");
    assert_true(RemoveDirectoryW(wpickup));
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(log_rows(0, "left message <sink-test@src.test> unchanged") - before, 1);
    assert_false(plat_is_dir(fx.pickup));
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

static void test_malformed_list_untouched(void **state)
{
    static const char *lists[] = {
        "SMTP:a@x.plain.test;X400:c=us;a=;",
        "SMTP:\"open@x.plain.test;",
        "a@x.plain.test;",
        "SMTP:a b@x.plain.test;",
    };
    ISMTPOnArrival *sink = create_sink();
    int before = log_rows(0, "could not read the recipient list");
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        host_message *m = new_message(lists[i]);
        deliver(sink, m);
        assert_untouched(m, lists[i]);
        host_message_release(m);
    }
    assert_int_equal(pickup_count(), 0);
    /* Each one logged (database log table; the Event Log gets the same
     * line, which Wine cannot read back), naming the message and why. */
    assert_int_equal(log_rows(0, "could not read the recipient list") - before, 4);
    assert_true(log_rows(0, "<sink-test@src.test>: recipient list entry 2: expected \"SMTP:\" prefix") >= 1);
    ISMTPOnArrival_Release(sink);
}

static void test_stream_failure_untouched(void **state)
{
    const char *list = "SMTP:a@x.plain.test;";
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message(list);
    host_message_fail_stream(m, E_ACCESSDENIED);
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(pickup_count(), 0);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

/* The pickup file is written but the message cannot be changed: the sink
 * takes the file back, so nobody gets the message twice. */
static void test_commit_failure_takes_pickup_back(void **state)
{
    const char *list = "SMTP:undo@x.plain.test;SMTP:keep@tls.test;";
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message(list);
    int before = log_rows(0, "The pickup file was removed");
    host_message_fail_updates(m, E_FAIL);
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(pickup_count(), 0);
    assert_int_equal(log_rows(0, "The pickup file was removed") - before, 1);
    /* The journal tells the truth: the recipient went the TLS way. */
    assert_int_equal(journal_rows("undo@x.plain.test", "plain"), 0);
    assert_int_equal(journal_rows("undo@x.plain.test", "tls"), 1);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

/* A message the Plain server handed back to this virtual server carries
 * our trace: OnArrival leaves every recipient on it, writes no pickup
 * file, and puts a warning in the Event Log (and the log table). */
static void test_loop_kept_with_warning(void **state)
{
    const char *list = "SMTP:loop@x.plain.test;SMTP:keep@tls.test;";
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message("SMTP:first@x.plain.test;");
    char *back;
    int warnings = log_rows(1, "found its own hand-off trace");
    deliver(sink, m);
    assert_int_equal(host_message_status(m), cdoStatAbortDelivery);
    host_message_release(m);
    back = single_pickup_message();
    host_empty_dir(fx.pickup);

    host_message_spec spec = { "sender@src.test", list, "<sink-test@src.test>", back,
                               strlen(back) };
    m = host_message_new(&spec);
    assert_non_null(m);
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(pickup_count(), 0);
    assert_int_equal(log_rows(1, "found its own hand-off trace") - warnings, 1);
    assert_true(log_rows(1, "in message <sink-test@src.test> from sender@src.test") >= 1);
    assert_true(log_rows(1, "virtual server 1) in message") >= 1);
    assert_int_equal(journal_rows("loop@x.plain.test", "plain"), 0);
    assert_true(count_rows("SELECT count(*) FROM journal WHERE recipient = ?1 AND reason = ?2",
                           "loop@x.plain.test", "loop") >= 1);
    host_message_release(m);
    free(back);
    ISMTPOnArrival_Release(sink);
}

/* A one-value IPropertyBag, standing in for the binding's SinkProperties
 * that SEO hands to the sink through IPersistPropertyBag::Load. */
typedef struct {
    IPropertyBag iface;
    const wchar_t *name;
    VARIANT value;
} one_bag;

static HRESULT WINAPI bag_query(IPropertyBag *p, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IPropertyBag)) {
        *ppv = p;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI bag_add_ref(IPropertyBag *p) { return 2; } /* lives on the stack */
static ULONG WINAPI bag_release(IPropertyBag *p) { return 1; }
static HRESULT WINAPI bag_read(IPropertyBag *p, LPCOLESTR name, VARIANT *out, IErrorLog *log)
{
    one_bag *b = (one_bag *)p;
    if (_wcsicmp(name, b->name) != 0)
        return E_INVALIDARG; /* what SEO's bag answers for a missing name */
    return VariantCopy(out, &b->value);
}
static HRESULT WINAPI bag_write(IPropertyBag *p, LPCOLESTR name, VARIANT *value) { return E_NOTIMPL; }
static const IPropertyBagVtbl bag_vtbl = { bag_query, bag_add_ref, bag_release, bag_read, bag_write };

static void load_instance(ISMTPOnArrival *sink, const wchar_t *name, VARIANT value)
{
    IPersistPropertyBag *persist = NULL;
    one_bag bag = { { &bag_vtbl }, name, value };
    assert_int_equal(ISMTPOnArrival_QueryInterface(sink, &IID_IPersistPropertyBag, (void **)&persist),
                     S_OK);
    assert_int_equal(IPersistPropertyBag_Load(persist, &bag.iface, NULL), S_OK);
    IPersistPropertyBag_Release(persist);
}

/* The binding's Instance property selects the rule: virtual server 2 has
 * none, so nothing is handed off there; a bad value keeps instance 1. The
 * journal rows name the server each message came through. */
static void test_binding_instance_selects_rule(void **state)
{
    const char *list = "SMTP:inst@x.plain.test;SMTP:keep@tls.test;";
    ISMTPOnArrival *sink = create_sink();
    host_message *m = new_message(list);
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_I4;
    V_I4(&v) = 2;
    load_instance(sink, L"Instance", v);
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(pickup_count(), 0);
    host_message_release(m);
    assert_int_equal(journal_rows_of_server("inst@x.plain.test", "2"), 1);

    V_I4(&v) = 0; /* refused: back to instance 1 */
    load_instance(sink, L"Instance", v);
    m = new_message(list);
    deliver(sink, m);
    assert_int_equal(host_message_updates(m), 1);
    assert_int_equal(pickup_count(), 1);
    host_message_release(m);
    assert_int_equal(journal_rows_of_server("inst@x.plain.test", "1"), 1);
    ISMTPOnArrival_Release(sink);
}

typedef struct {
    ISMTPOnArrival *sink;
    host_message *message;
    HANDLE start;
    HRESULT hr;
    CdoEventStatus status;
} worker;

static DWORD WINAPI worker_main(LPVOID p)
{
    worker *w = p;
    WaitForSingleObject(w->start, INFINITE);
    w->hr = ISMTPOnArrival_OnArrival(w->sink, host_message_iface(w->message), &w->status);
    return 0;
}

static void test_eight_threads_at_once(void **state)
{
    ISMTPOnArrival *sink = create_sink();
    HANDLE start = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE threads[THREADS];
    worker workers[THREADS];
    char list[THREADS][128], expect[128];
    assert_non_null(start);
    for (int i = 0; i < THREADS; i++) {
        snprintf(list[i], sizeof list[i], "SMTP:p%d@x.plain.test;SMTP:t%d@tls.test;", i, i);
        workers[i] = (worker){ sink, new_message(list[i]), start, E_FAIL, cdoSkipRemainingSinks };
        threads[i] = CreateThread(NULL, 0, worker_main, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    SetEvent(start);
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, THREAD_DEADLINE_MS), WAIT_OBJECT_0);
    for (int i = 0; i < THREADS; i++) {
        char *rcpt = host_message_committed(workers[i].message, cdoRecipientList);
        assert_int_equal(workers[i].hr, S_OK);
        assert_int_equal(workers[i].status, cdoRunNextSink);
        snprintf(expect, sizeof expect, "SMTP:t%d@tls.test;", i);
        assert_string_equal(rcpt, expect);
        free(rcpt);
        host_message_release(workers[i].message);
        CloseHandle(threads[i]);
    }
    assert_int_equal(pickup_count(), THREADS);
    CloseHandle(start);
    ISMTPOnArrival_Release(sink);
}

/* Settings of the test database, as the manager or the CLI would set them. */
static void set_setting(const char *key, const char *value)
{
    char err[256];
    store *db = NULL;
    assert_int_equal(store_open(fx.db, &db, err, sizeof err), STORE_OK);
    if (store_setting_set(db, key, value) != STORE_OK)
        fail_msg("%s: %s", key, store_error(db));
    store_close(db);
}

#define BURST_THREADS 16
/* Each SMTP reply of the peers comes this late, so every thread's message
 * arrives while the two probes run. */
#define BURST_REPLY_DELAY_MS 100

/* IIS calls OnArrival from many threads at once with messages for two
 * domains nobody has probed: the loopback peers (one per domain, on two
 * loopback addresses and one port, as MX hosts on port 25) see one
 * connection each, not one per message, and every message stays on TLS
 * untouched (both offer STARTTLS). */
static void test_threads_at_once_one_probe_per_domain(void **state)
{
    dnsd *dns = dnsd_start();
    peer *first = peer_start_at("127.0.0.1", 0, PEER_STARTTLS, NULL);
    assert_non_null(dns);
    assert_non_null(first);
    peer *second = peer_start_at("127.0.0.2", peer_port(first), PEER_STARTTLS, NULL);
    assert_non_null(second);
    peer_set_reply_delay(first, BURST_REPLY_DELAY_MS);
    peer_set_reply_delay(second, BURST_REPLY_DELAY_MS);
    dnsd_add_mx(dns, "one.burst.test", 10, "mx.one.burst.test");
    dnsd_add_a(dns, "mx.one.burst.test", 127, 0, 0, 1);
    dnsd_add_mx(dns, "two.burst.test", 10, "mx.two.burst.test");
    dnsd_add_a(dns, "mx.two.burst.test", 127, 0, 0, 2);
    char port[16];
    snprintf(port, sizeof port, "%u", peer_port(first));
    /* The engine the sink opens next reads these. */
    assert_int_equal(sink_can_unload(), S_OK);
    set_setting("dns_servers", dnsd_server(dns));
    set_setting("probe_port", port);

    ISMTPOnArrival *sink = create_sink();
    HANDLE start = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE threads[BURST_THREADS];
    worker workers[BURST_THREADS];
    char list[BURST_THREADS][128];
    assert_non_null(start);
    for (int i = 0; i < BURST_THREADS; i++) {
        snprintf(list[i], sizeof list[i], "SMTP:a%d@one.burst.test;SMTP:b%d@two.burst.test;", i,
                 i);
        workers[i] = (worker){ sink, new_message(list[i]), start, E_FAIL, cdoSkipRemainingSinks };
        threads[i] = CreateThread(NULL, 0, worker_main, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    SetEvent(start);
    assert_int_equal(WaitForMultipleObjects(BURST_THREADS, threads, TRUE, THREAD_DEADLINE_MS),
                     WAIT_OBJECT_0);
    for (int i = 0; i < BURST_THREADS; i++) {
        assert_int_equal(workers[i].hr, S_OK);
        assert_int_equal(workers[i].status, cdoRunNextSink);
        assert_untouched(workers[i].message, list[i]);
        host_message_release(workers[i].message);
        CloseHandle(threads[i]);
    }
    CloseHandle(start);
    ISMTPOnArrival_Release(sink);
    assert_int_equal(pickup_count(), 0);
    assert_int_equal(journal_rows("a0@one.burst.test", "tls"), 1);
    assert_int_equal(peer_connections(first), 1);
    assert_int_equal(peer_connections(second), 1);

    assert_int_equal(sink_can_unload(), S_OK);
    set_setting("dns_servers", "");
    set_setting("probe_port", "25");
    peer_stop(first);
    peer_stop(second);
    dnsd_stop(dns);
}

/* No database (a wrong path): the message goes out unchanged, and once the
 * database is back the next message is routed again, without a restart. */
static void test_database_unavailable_untouched(void **state)
{
    const char *list = "SMTP:a@x.plain.test;SMTP:keep@tls.test;";
    char missing[PLAT_PATH_MAX];
    ISMTPOnArrival *sink;
    host_message *m;
    assert_int_equal(sink_can_unload(), S_OK); /* closes the open engine */
    snprintf(missing, sizeof missing, "%s\\no-such-folder\\tlsrouter.db", fx.dir);
    assert_int_equal(_putenv_s("TLSROUTER_DB", missing), 0);
    sink = create_sink();
    m = new_message(list);
    deliver(sink, m);
    assert_untouched(m, list);
    assert_int_equal(pickup_count(), 0);
    host_message_release(m);

    assert_int_equal(_putenv_s("TLSROUTER_DB", fx.db), 0);
    m = new_message(list);
    deliver(sink, m);
    assert_int_equal(host_message_updates(m), 1);
    assert_int_equal(pickup_count(), 1);
    host_message_release(m);
    ISMTPOnArrival_Release(sink);
}

/* DllCanUnloadNow counts objects and LockServer locks exactly. */
static void test_counts_return_to_zero(void **state)
{
    IClassFactory *factory = NULL;
    ISMTPOnArrival *sink;
    CLSID clsid;
    assert_int_equal(CLSIDFromProgID(SINK_PROGID, &clsid), S_OK);
    sink = create_sink();
    assert_int_equal(sink_can_unload(), S_FALSE);
    ISMTPOnArrival_Release(sink);
    assert_int_equal(sink_can_unload(), S_OK);

    assert_int_equal(CoGetClassObject(&clsid, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory,
                                      (void **)&factory),
                     S_OK);
    assert_int_equal(sink_can_unload(), S_FALSE); /* the factory is an object too */
    assert_int_equal(IClassFactory_LockServer(factory, TRUE), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(sink_can_unload(), S_FALSE); /* the lock alone holds it */
    /* LockServer(FALSE) through a fresh factory, released again. */
    assert_int_equal(CoGetClassObject(&clsid, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory,
                                      (void **)&factory),
                     S_OK);
    assert_int_equal(IClassFactory_LockServer(factory, FALSE), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(sink_can_unload(), S_OK);

    /* After the engine was shut down by DllCanUnloadNow, the next message
     * opens it again. */
    sink = create_sink();
    {
        host_message *m = new_message("SMTP:again@x.plain.test;");
        deliver(sink, m);
        assert_int_equal(host_message_status(m), cdoStatAbortDelivery);
        host_message_release(m);
    }
    ISMTPOnArrival_Release(sink);
    assert_int_equal(sink_can_unload(), S_OK);
}

/* The message table is in the DLL, with IIS's own words. */
static void test_event_messages(void **state)
{
    HMODULE module = LoadLibraryExW(fx.dll, NULL, LOAD_LIBRARY_AS_DATAFILE);
    wchar_t text[1024];
    const wchar_t *args[] = { L"a@x.plain.test", L"x.plain.test", L"no-starttls" };
    assert_non_null(module);
    assert_true(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY, module,
                               MSG_NO_TLS, 0, text, 1024, (va_list *)args) > 0);
    assert_non_null(wcsstr(text, L"The remote SMTP service does not support TLS."));
    assert_non_null(wcsstr(text, L"a@x.plain.test"));
    assert_true(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY, module,
                               MSG_CERT_EXPIRED, 0, text, 1024, (va_list *)args) > 0);
    assert_non_null(wcsstr(
        text, L"The remote SMTP service rejected the SSL handshake because the certificate has expired."));
    assert_true(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY, module,
                               MSG_STARTTLS_ERROR, 0, text, 1024, (va_list *)args) > 0);
    assert_non_null(
        wcsstr(text, L"The remote SMTP server responded with an error during the STARTTLS command."));
    {
        const wchar_t *loop_args[] = { L"<m@x>", L"s@x", L"relay.example", L"1" };
        assert_true(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                   module, MSG_LOOP_KEPT, 0, text, 1024, (va_list *)loop_args) > 0);
        assert_non_null(wcsstr(text, L"hand-off trace (relay.example, virtual server 1) in "
                                     L"message <m@x> from s@x"));
        assert_int_equal(MSG_LOOP_KEPT >> 30, 2); /* a warning */
    }
    FreeLibrary(module);
}

/* Every reason has an Event Log message for a recipient routed plain, the
 * DLL's message table has it, and the reasons IIS has words for get them. */
static void test_plain_event_for_every_reason(void **state)
{
    HMODULE module = LoadLibraryExW(fx.dll, NULL, LOAD_LIBRARY_AS_DATAFILE);
    wchar_t text[1024];
    const wchar_t *args[] = { L"a@x.plain.test", L"x.plain.test", L"reason" };
    assert_non_null(module);
    for (int r = 0; r < DECIDE_REASON_COUNT; r++) {
        DWORD id = sink_plain_event((decide_reason)r);
        if (id == 0)
            print_error("no Event Log message for reason %s\n", decide_reason_name((decide_reason)r));
        assert_int_not_equal(id, 0);
        assert_true(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                   module, id, 0, text, 1024, (va_list *)args) > 0);
    }
    assert_int_equal(sink_plain_event(DECIDE_NO_STARTTLS), MSG_NO_TLS);
    assert_int_equal(sink_plain_event(DECIDE_STARTTLS_REJECTED), MSG_STARTTLS_ERROR);
    assert_int_equal(sink_plain_event(DECIDE_CERT_EXPIRED), MSG_CERT_EXPIRED);
    assert_int_equal(sink_plain_event(DECIDE_EXPIRED_CACHE), MSG_CERT_EXPIRED);
    assert_int_equal(sink_plain_event(DECIDE_FORCE_PLAIN), MSG_ROUTED_PLAIN);
    assert_int_equal(sink_plain_event(DECIDE_HANDSHAKE_FAILED), MSG_ROUTED_PLAIN);
    FreeLibrary(module);
}

/* Last: regsvr32 /u takes every key away again. */
static void test_unregister(void **state)
{
    CLSID clsid;
    HKEY key;
    assert_int_equal(sink_can_unload(), S_OK);
    assert_int_equal(host_regsvr32(fx.dll, 1), 0);
    assert_int_not_equal(CLSIDFromProgID(SINK_PROGID, &clsid), S_OK);
    assert_int_equal(RegOpenKeyExW(HKEY_CLASSES_ROOT, L"CLSID\\" SINK_CLSID_TEXT, 0, KEY_READ, &key),
                     ERROR_FILE_NOT_FOUND);
    assert_int_equal(RegOpenKeyExW(HKEY_LOCAL_MACHINE,
                                   L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\TLS Router",
                                   0, KEY_READ, &key),
                     ERROR_FILE_NOT_FOUND);
    /* And registering again works (the installer's repair path). */
    assert_int_equal(host_regsvr32(fx.dll, 0), 0);
    assert_int_equal(CLSIDFromProgID(SINK_PROGID, &clsid), S_OK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_registration),
        T(test_interfaces),
        T(test_all_tls_untouched),
        T(test_all_plain_aborted),
        T(test_mixed_removes_exactly_plain),
        T(test_sender_prefix_stripped),
        T(test_pickup_failure_untouched),
        T(test_malformed_list_untouched),
        T(test_stream_failure_untouched),
        T(test_commit_failure_takes_pickup_back),
        T(test_loop_kept_with_warning),
        T(test_binding_instance_selects_rule),
        T(test_eight_threads_at_once),
        T(test_threads_at_once_one_probe_per_domain),
        T(test_database_unavailable_untouched),
        T(test_counts_return_to_zero),
        T(test_event_messages),
        T(test_plain_event_for_every_reason),
        T(test_unregister),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Routing for these tests, in a real database: one rule for virtual server
 * 1 whose lists decide without the network. Subdomains of plain.test are
 * forced plain, tls.test is never redirected. */
static int setup_routing(void)
{
    static const char *const plain[] = { "*.plain.test" };
    static const char *const tls[] = { "tls.test" };
    char err[256];
    store *db = NULL;
    int rc = -1;
    if (store_open(fx.db, &db, err, sizeof err) != STORE_OK) {
        print_error("store_open: %s\n", err);
        return -1;
    }
    if (store_rule_add(db, "tls-router", fx.pickup, 1, NULL) == STORE_OK &&
        store_domains_add(db, "tls-router", STORE_LIST_FORCE_PLAIN, plain, 1) == STORE_OK &&
        store_domains_add(db, "tls-router", STORE_LIST_NEVER_REDIRECT, tls, 1) == STORE_OK)
        rc = 0;
    else
        print_error("setting up the rule: %s\n", store_error(db));
    store_close(db);
    return rc;
}
