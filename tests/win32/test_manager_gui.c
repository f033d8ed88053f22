/* GUI test of TLS Router Manager, driven by Win32 messages alone.
 *
 * tests/gui/run_manager_test.sh starts Xvfb, prepares a database (with a
 * 1,000,000-row journal and three expired-certificate domains), starts the
 * manager on it and then runs this program, which finds the manager by its
 * title and uses it the way an admin would: it creates a rule with both
 * domain lists, is refused the source server's own Pickup folder (IIS read
 * through a stand-in ADSI provider) and an invalid domain, checks the rule in the
 * database, switches tabs, changes the log level, clears the expired cache,
 * opens and scrolls the journal and exports it to CSV, runs the setup
 * checks of the Status tab and watches its Plain TCP Server line turn red
 * when a handed-off file waits too long. Screenshots are
 * requested from the script through files in TR_GUI_DIR.
 *
 * Environment: TR_GUI_DB (database path), TR_GUI_DIR (work folder, Windows
 * path), TR_GUI_PICKUP (an existing folder standing for the Plain TCP
 * server's Pickup folder). */
#include <windows.h>
#include <commctrl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "dnsd.h"
#include "manager_res.h"
#include "expcache.h"
#include "explain.h"
#include "host.h"
#include "journal.h"
#include "mgr_data.h"
#include "plat.h"
#include "stats.h"
#include "store.h"
#include "trtest.h"

#define WAIT_MS 20000
#define WIDEN_(x) L##x
#define WIDEN(x) WIDEN_(x)
#define TR_TEST_VERSION_W WIDEN(TLSROUTER_VERSION)
#define JOURNAL_ROWS 1000000
#define RULE_NAME L"TLS to Plain Router"
#define RULE_NAME_U8 "TLS to Plain Router"

static HWND main_wnd, tabs;
static char db_path[1024];
static wchar_t work_dir[1024], pickup_dir[1024];

/* ---- Finding windows ---- */

struct find_ctx { int id; HWND found; };

static BOOL CALLBACK find_child(HWND hwnd, LPARAM lp)
{
    struct find_ctx *c = (struct find_ctx *)lp;
    if (GetDlgCtrlID(hwnd) == c->id) {
        c->found = hwnd;
        return FALSE;
    }
    return TRUE;
}

/* A control anywhere below root (pages are child dialogs of the main one). */
static HWND control(HWND root, int id)
{
    struct find_ctx c = { id, NULL };
    EnumChildWindows(root, find_child, (LPARAM)&c);
    return c.found;
}

static HWND page_of(int control_id) { return GetParent(control(main_wnd, control_id)); }

struct owned_ctx { HWND owner; const wchar_t *title; HWND found; };

static BOOL CALLBACK find_owned(HWND hwnd, LPARAM lp)
{
    struct owned_ctx *c = (struct owned_ctx *)lp;
    wchar_t title[256], cls[64];
    if (!IsWindowVisible(hwnd))
        return TRUE;
    GetClassNameW(hwnd, cls, 64);
    GetWindowTextW(hwnd, title, 256);
    if (wcscmp(cls, L"#32770") == 0 && (!c->title || wcscmp(title, c->title) == 0)
        && (!c->owner || GetWindow(hwnd, GW_OWNER) == c->owner)) {
        c->found = hwnd;
        return FALSE;
    }
    return TRUE;
}

/* Waits for a visible dialog with this title (and owner, when given). */
static HWND wait_dialog(HWND owner, const wchar_t *title)
{
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        struct owned_ctx c = { owner, title, NULL };
        EnumWindows(find_owned, (LPARAM)&c);
        if (c.found)
            return c.found;
        Sleep(50);
    }
    return NULL;
}

static int wait_gone(HWND hwnd)
{
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (!IsWindow(hwnd) || !IsWindowVisible(hwnd))
            return 1;
        Sleep(50);
    }
    return 0;
}

/* ---- Driving controls ---- */

/* A click the dialog cannot answer synchronously (it opens a modal window):
 * post the button's notification to its dialog. */
static void post_click(HWND dlg, int id)
{
    PostMessageW(dlg, WM_COMMAND, MAKEWPARAM(id, BN_CLICKED), (LPARAM)GetDlgItem(dlg, id));
}

static void send_click(HWND dlg, int id)
{
    SendMessageW(dlg, WM_COMMAND, MAKEWPARAM(id, BN_CLICKED), (LPARAM)GetDlgItem(dlg, id));
}

static void set_text(HWND dlg, int id, const wchar_t *text)
{
    SendMessageW(GetDlgItem(dlg, id), WM_SETTEXT, 0, (LPARAM)text);
}

static void get_text(HWND hwnd, wchar_t *out, int len)
{
    out[0] = 0;
    SendMessageW(hwnd, WM_GETTEXT, (WPARAM)len, (LPARAM)out);
}

/* Common-control text lives in the manager's address space: send msg with
 * a copy of item (whose text pointer *text_field is pointed at a lent
 * buffer) and read the text back. */
static void lent_text(HWND to, UINT msg, WPARAM wp, void *item, size_t item_size,
                      wchar_t **text_field, wchar_t *out, int len)
{
    DWORD pid = 0;
    out[0] = 0;
    GetWindowThreadProcessId(to, &pid);
    HANDLE proc = OpenProcess(PROCESS_VM_OPERATION | PROCESS_VM_READ | PROCESS_VM_WRITE,
                              FALSE, pid);
    assert_non_null(proc);
    char *remote = VirtualAllocEx(proc, NULL, item_size + (size_t)len * sizeof(wchar_t),
                                  MEM_COMMIT, PAGE_READWRITE);
    assert_non_null(remote);
    *text_field = (wchar_t *)(remote + item_size);
    assert_true(WriteProcessMemory(proc, remote, item, item_size, NULL));
    SendMessageW(to, msg, wp, (LPARAM)remote);
    assert_true(ReadProcessMemory(proc, remote + item_size, out, (size_t)len * sizeof(wchar_t),
                                  NULL));
    out[len - 1] = 0;
    VirtualFreeEx(proc, remote, 0, MEM_RELEASE);
    CloseHandle(proc);
}

static void lv_text(HWND lv, int item, int sub, wchar_t *out, int len)
{
    LVITEMW it = { 0 };
    it.iSubItem = sub;
    it.cchTextMax = len;
    lent_text(lv, LVM_GETITEMTEXTW, (WPARAM)item, &it, sizeof it, &it.pszText, out, len);
}

struct statics_ctx { wchar_t *out; int len; };

static BOOL CALLBACK append_static(HWND hwnd, LPARAM lp)
{
    struct statics_ctx *c = (struct statics_ctx *)lp;
    wchar_t cls[32], text[1024];
    GetClassNameW(hwnd, cls, 32);
    if (_wcsicmp(cls, L"Static") == 0) {
        get_text(hwnd, text, 1024);
        size_t used = wcslen(c->out);
        _snwprintf(c->out + used, (size_t)c->len - used - 1, L"%ls ", text);
    }
    return TRUE;
}

/* All the text of a message box (its statics, whatever their ids). */
static void box_text(HWND box, wchar_t *out, int len)
{
    struct statics_ctx c = { out, len };
    out[0] = 0;
    EnumChildWindows(box, append_static, (LPARAM)&c);
    out[len - 1] = 0;
}

static int lv_count(HWND lv) { return (int)SendMessageW(lv, LVM_GETITEMCOUNT, 0, 0); }

static void tab_text(int index, wchar_t *out, int len)
{
    TCITEMW item = { 0 };
    item.mask = TCIF_TEXT;
    item.cchTextMax = len;
    lent_text(tabs, TCM_GETITEMW, (WPARAM)index, &item, sizeof item, &item.pszText, out, len);
}

/* The tab titled title, by its text: tabs may be added or reordered. */
static int tab_index(const wchar_t *title)
{
    int n = (int)SendMessageW(tabs, TCM_GETITEMCOUNT, 0, 0);
    for (int i = 0; i < n; i++) {
        wchar_t text[64];
        tab_text(i, text, 64);
        if (wcscmp(text, title) == 0)
            return i;
    }
    fail_msg("no tab titled %ls", title);
    return -1;
}

static void select_tab(const wchar_t *title)
{
    SendMessageW(tabs, TCM_SETCURFOCUS, (WPARAM)tab_index(title), 0);
}

static void status_text(wchar_t *out, int len)
{
    get_text(GetDlgItem(main_wnd, IDC_MAIN_STATUSTEXT), out, len);
}

/* Asks the script for a screenshot and waits until it is taken. */
static void screenshot(const char *name)
{
    wchar_t req[1200], done[1200];
    _snwprintf(req, 1199, L"%ls\\shot-%hs.req", work_dir, name);
    _snwprintf(done, 1199, L"%ls\\shot-%hs.done", work_dir, name);
    req[1199] = done[1199] = 0;
    RedrawWindow(main_wnd, NULL, NULL, RDW_INVALIDATE | RDW_ALLCHILDREN | RDW_UPDATENOW);
    Sleep(300);
    HANDLE f = CreateFileW(req, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(f != INVALID_HANDLE_VALUE);
    CloseHandle(f);
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        if (GetFileAttributesW(done) != INVALID_FILE_ATTRIBUTES)
            return;
        Sleep(100);
    }
    fail_msg("screenshot %s was not taken", name);
}

static double ms_since(LARGE_INTEGER start);

/* The journal opens its view on a worker thread: wait until the count line
 * reports the result ("N entries (shown in T ms)"). */
static void count_settle(HWND count)
{
    wchar_t text[256];
    for (int waited = 0; waited < WAIT_MS; waited += 10) {
        get_text(count, text, 256);
        if (wcsstr(text, L"shown in"))
            return;
        Sleep(10);
    }
    fail_msg("the list did not finish loading: %ls", text);
}

static void journal_settle(HWND page) { count_settle(GetDlgItem(page, IDC_JOURNAL_COUNT)); }

/* The save dialog of an export: type the path, OK, wait for the status
 * line to report the rows. */
static void export_to(HWND page, int export_id, const wchar_t *title, const wchar_t *path,
                      const wchar_t *expected_status)
{
    wchar_t text[512];
    post_click(page, export_id);
    HWND dlg = wait_dialog(NULL, title);
    assert_non_null(dlg);
    HWND name = control(dlg, 0x047c);          /* cmb13: file name combo */
    if (!name)
        name = control(dlg, 0x0480);           /* edt1: file name edit */
    assert_non_null(name);
    SendMessageW(name, WM_SETTEXT, 0, (LPARAM)path);
    post_click(dlg, IDOK);
    assert_true(wait_gone(dlg));
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        status_text(text, 512);
        if (wcsstr(text, expected_status))
            return;
        Sleep(100);
    }
    fail_msg("the export did not finish: %ls", text);
}

static double ms_since(LARGE_INTEGER start)
{
    LARGE_INTEGER now, freq;
    QueryPerformanceCounter(&now);
    QueryPerformanceFrequency(&freq);
    return (double)(now.QuadPart - start.QuadPart) * 1000.0 / (double)freq.QuadPart;
}

/* ---- Tests, in order ---- */

/* The manager's window, once it is whole: FindWindow sees a dialog as soon
 * as it exists, before its controls are made and its tabs added, and a
 * loaded machine can show it in between. */
static int manager_ready(void)
{
    main_wnd = FindWindowW(L"#32770", L"TLS Router Manager");
    tabs = main_wnd ? GetDlgItem(main_wnd, IDC_TABS) : NULL;
    return tabs && SendMessageW(tabs, TCM_GETITEMCOUNT, 0, 0) == 6 &&
           control(main_wnd, IDC_STATUS_DB) != NULL;
}

static void test_finds_manager(void **state)
{
    for (int waited = 0; waited < 60000 && !manager_ready(); waited += 100)
        Sleep(100);
    if (main_wnd && !tabs) {
        wchar_t text[1024];
        box_text(main_wnd, text, 1024);   /* a message box of that title says why */
        fail_msg("a window titled TLS Router Manager without tabs: %ls", text);
    }
    assert_non_null(main_wnd);
    assert_non_null(tabs);
    static const wchar_t *const titles[] = { L"Overview", L"Rules", L"Journal", L"Log",
                                             L"Cache", L"Status" };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        tab_index(titles[i]);     /* fails the test when a tab is missing */
    assert_non_null(control(main_wnd, IDC_RULES_LIST));
    assert_non_null(control(main_wnd, IDC_LOG_LIST));
    assert_non_null(control(main_wnd, IDC_JOURNAL_LIST));
    assert_non_null(control(main_wnd, IDC_CACHE_EXPIRED));
    assert_non_null(control(main_wnd, IDC_STATUS_DB));
}

/* The executable carries its version, icon and manifest (Common Controls
 * v6, requireAdministrator, per-monitor DPI awareness). */
static void test_resources(void **state)
{
    DWORD pid = 0, len = MAX_PATH;
    wchar_t exe[MAX_PATH];
    GetWindowThreadProcessId(main_wnd, &pid);
    HANDLE proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    assert_non_null(proc);
    assert_true(QueryFullProcessImageNameW(proc, 0, exe, &len));
    CloseHandle(proc);

    DWORD ignored, size = GetFileVersionInfoSizeW(exe, &ignored);
    assert_true(size > 0);
    char *info = malloc(size);
    assert_non_null(info);
    assert_true(GetFileVersionInfoW(exe, 0, size, info));
    wchar_t *text = NULL;
    UINT tlen = 0;
    assert_true(VerQueryValueW(info, L"\\StringFileInfo\\040904b0\\FileDescription",
                               (void **)&text, &tlen));
    assert_true(wcscmp(text, L"TLS Router Manager") == 0);
    assert_true(VerQueryValueW(info, L"\\StringFileInfo\\040904b0\\ProductVersion",
                               (void **)&text, &tlen));
    assert_true(wcscmp(text, TR_TEST_VERSION_W) == 0);
    free(info);

    HMODULE mod = LoadLibraryExW(exe, NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
    assert_non_null(mod);
    HRSRC res = FindResourceW(mod, MAKEINTRESOURCEW(1), MAKEINTRESOURCEW(24));  /* RT_MANIFEST */
    assert_non_null(res);
    DWORD mlen = SizeofResource(mod, res);
    char *manifest = calloc(1, mlen + 1);
    assert_non_null(manifest);
    memcpy(manifest, LockResource(LoadResource(mod, res)), mlen);
    assert_non_null(strstr(manifest, "Microsoft.Windows.Common-Controls"));
    assert_non_null(strstr(manifest, "level=\"requireAdministrator\""));
    assert_non_null(strstr(manifest, "PerMonitorV2"));
    free(manifest);
    assert_non_null(FindResourceW(mod, MAKEINTRESOURCEW(IDI_APP), MAKEINTRESOURCEW(14)));  /* RT_GROUP_ICON */
    FreeLibrary(mod);
}

static HWND open_new_rule_dialog(void)
{
    HWND page = page_of(IDC_RULES_LIST);
    select_tab(L"Rules");
    post_click(page, IDC_RULES_NEW);
    HWND dlg = wait_dialog(NULL, L"New Rule");
    assert_non_null(dlg);
    return dlg;
}

static void fill_rule(HWND dlg, const wchar_t *force_list)
{
    set_text(dlg, IDC_RULE_NAME, RULE_NAME);
    set_text(dlg, IDC_RULE_PICKUP, pickup_dir);
    SendMessageW(GetDlgItem(dlg, IDC_RULE_EXPIRED), BM_CLICK, 0, 0);
    SendMessageW(GetDlgItem(dlg, IDC_RULE_FORCE_ON), BM_CLICK, 0, 0);
    SendMessageW(GetDlgItem(dlg, IDC_RULE_NEVER_ON), BM_CLICK, 0, 0);
    assert_true(IsWindowEnabled(GetDlgItem(dlg, IDC_RULE_FORCE_LIST)));
    assert_true(IsWindowEnabled(GetDlgItem(dlg, IDC_RULE_NEVER_LIST)));
    set_text(dlg, IDC_RULE_FORCE_LIST, force_list);
    set_text(dlg, IDC_RULE_NEVER_LIST, L"gmail.com\r\nOutlook.com.\r\n");
}

/* IIS (the stand-in ADSI provider, tests/win32/standin/iis_standin.c)
 * says virtual server 1 picks up from <work>\TLS Pickup: a rule of server
 * 1 handing off there is refused, whatever the spelling, and nothing is
 * saved. */
static void test_own_pickup_is_refused(void **state)
{
    static const wchar_t standin_key[] = L"Software\\TLS Router Tests\\IIS Stand-in\\1";
    char standin_u8[MAX_PATH * 2];
    wchar_t standin[MAX_PATH], own[1100], typed[1100], text[1024];
    snprintf(standin_u8, sizeof standin_u8, "%s", TR_TEST_IIS_STANDIN);
    host_windows_path(standin_u8, standin, MAX_PATH);
    swprintf(own, 1100, L"%ls\\TLS Pickup", work_dir);
    swprintf(typed, 1100, L"%ls/tls pickup/", work_dir);
    assert_true(CreateDirectoryW(own, NULL) || GetLastError() == ERROR_ALREADY_EXISTS);
    assert_int_equal(RegSetKeyValueW(HKEY_CURRENT_USER, standin_key, L"PickupDirectory", REG_SZ,
                                     own, (DWORD)((wcslen(own) + 1) * sizeof(wchar_t))),
                     ERROR_SUCCESS);
    assert_int_equal(host_regsvr32(standin, 0), 0);

    HWND dlg = open_new_rule_dialog();
    fill_rule(dlg, L"legacy.example");
    set_text(dlg, IDC_RULE_PICKUP, typed);
    post_click(dlg, IDOK);
    HWND box = wait_dialog(dlg, L"TLS Router Manager");
    assert_non_null(box);
    box_text(box, text, 1024);
    printf("# refusal shown: %ls\n", text);
    assert_non_null(wcsstr(text, L"Pickup folder of virtual server 1 itself"));
    assert_non_null(wcsstr(text, L"Nothing has been saved."));
    post_click(box, IDOK);
    assert_true(wait_gone(box));
    post_click(dlg, IDCANCEL);
    assert_true(wait_gone(dlg));

    store *st;
    store_rule r;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_get(st, RULE_NAME_U8, &r), STORE_ERR_NOT_FOUND);
    store_close(st);
    assert_int_equal(host_regsvr32(standin, 1), 0);
    RegDeleteTreeW(HKEY_CURRENT_USER, L"Software\\TLS Router Tests\\IIS Stand-in");
}

static void test_invalid_domain_is_refused(void **state)
{
    HWND dlg = open_new_rule_dialog();
    fill_rule(dlg, L"example.org\r\nbad domain.example\r\n*.legacy.example");
    post_click(dlg, IDOK);

    HWND box = wait_dialog(dlg, L"TLS Router Manager");
    assert_non_null(box);
    wchar_t text[1024];
    box_text(box, text, 1024);
    printf("# refusal shown: %ls\n", text);
    assert_non_null(wcsstr(text, L"Line 2"));
    assert_non_null(wcsstr(text, L"bad domain.example"));
    assert_non_null(wcsstr(text, L"invalid character"));
    screenshot("rule-refused");
    post_click(box, IDOK);
    assert_true(wait_gone(box));

    /* The bad line is selected for the admin to fix. */
    HWND force = GetDlgItem(dlg, IDC_RULE_FORCE_LIST);
    DWORD start = 0, end = 0;
    SendMessageW(force, EM_GETSEL, (WPARAM)&start, (LPARAM)&end);
    LRESULT line2 = SendMessageW(force, EM_LINEINDEX, 1, 0);
    assert_int_equal(start, line2);
    assert_int_equal(end - start, wcslen(L"bad domain.example"));

    /* Nothing was saved. */
    store *st;
    store_rule r;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_get(st, RULE_NAME_U8, &r), STORE_ERR_NOT_FOUND);
    store_close(st);

    /* Fix the line and save. */
    set_text(dlg, IDC_RULE_FORCE_LIST, L"Example.org\r\n\r\n  *.legacy.example  \r\n");
    screenshot("rule-dialog");
    post_click(dlg, IDOK);
    assert_true(wait_gone(dlg));
}

static void test_rule_is_listed_and_stored(void **state)
{
    HWND lv = control(main_wnd, IDC_RULES_LIST);
    wchar_t text[512];
    assert_int_equal(lv_count(lv), 1);
    lv_text(lv, 0, 0, text, 512);
    assert_true(wcscmp(text, RULE_NAME) == 0);
    lv_text(lv, 0, 3, text, 512);
    assert_true(wcscmp(text, pickup_dir) == 0);
    lv_text(lv, 0, 4, text, 512);
    assert_non_null(wcsstr(text, L"2 forced plain domains"));
    assert_non_null(wcsstr(text, L"2 never redirected"));

    /* Read back through the core store, as the sink will. */
    store *st;
    store_rule r;
    char err[MGR_ERR_LEN], pickup_u8[1024];
    char **pats;
    size_t n;
    WideCharToMultiByte(CP_UTF8, 0, pickup_dir, -1, pickup_u8, sizeof pickup_u8, NULL, NULL);
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_get(st, RULE_NAME_U8, &r), STORE_OK);
    assert_int_equal(r.enabled, 1);
    assert_int_equal(r.expired_cert, 1);
    assert_int_equal(r.source_instance, 1);
    assert_string_equal(r.pickup_dir, pickup_u8);
    assert_int_equal(store_domains_list(st, RULE_NAME_U8, STORE_LIST_FORCE_PLAIN, &pats, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(pats[0], "*.legacy.example");
    assert_string_equal(pats[1], "example.org");
    store_strings_free(pats, n);
    assert_int_equal(store_domains_list(st, RULE_NAME_U8, STORE_LIST_NEVER_REDIRECT, &pats, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(pats[0], "gmail.com");
    assert_string_equal(pats[1], "outlook.com");
    store_strings_free(pats, n);
    store_close(st);
    screenshot("rules");
}

/* Edit loads the rule into the dialog; saving changes only what changed. */
static void test_rule_edit(void **state)
{
    HWND page = page_of(IDC_RULES_LIST), lv = GetDlgItem(page, IDC_RULES_LIST);
    wchar_t text[512];
    select_tab(L"Rules");
    /* LVM_SETITEMSTATE would need an LVITEM in the manager's memory; the
     * keyboard selects as an admin would: Home selects the first row. */
    SendMessageW(lv, WM_KEYDOWN, VK_HOME, 0);
    SendMessageW(lv, WM_KEYUP, VK_HOME, 0);
    assert_int_equal(SendMessageW(lv, LVM_GETNEXTITEM, (WPARAM)-1, LVNI_SELECTED), 0);
    post_click(page, IDC_RULES_EDIT);
    HWND dlg = wait_dialog(NULL, L"Edit Rule");
    assert_non_null(dlg);
    get_text(GetDlgItem(dlg, IDC_RULE_NAME), text, 512);
    assert_true(wcscmp(text, RULE_NAME) == 0);
    get_text(GetDlgItem(dlg, IDC_RULE_NEVER_LIST), text, 512);
    assert_true(wcscmp(text, L"gmail.com\r\noutlook.com") == 0);
    assert_int_equal(SendMessageW(GetDlgItem(dlg, IDC_RULE_EXPIRED), BM_GETCHECK, 0, 0),
                     BST_CHECKED);
    SendMessageW(GetDlgItem(dlg, IDC_RULE_EXPIRED), BM_CLICK, 0, 0);
    set_text(dlg, IDC_RULE_NEVER_LIST, L"gmail.com\r\n*.Partner.example");
    post_click(dlg, IDOK);
    assert_true(wait_gone(dlg));

    store *st;
    store_rule r;
    char err[MGR_ERR_LEN];
    char **pats;
    size_t n;
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_get(st, RULE_NAME_U8, &r), STORE_OK);
    assert_int_equal(r.expired_cert, 0);
    assert_int_equal(store_domains_list(st, RULE_NAME_U8, STORE_LIST_NEVER_REDIRECT, &pats, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(pats[0], "*.partner.example");
    assert_string_equal(pats[1], "gmail.com");
    store_strings_free(pats, n);
    assert_int_equal(store_domains_list(st, RULE_NAME_U8, STORE_LIST_FORCE_PLAIN, &pats, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    store_strings_free(pats, n);
    store_close(st);
    lv_text(lv, 0, 4, text, 512);
    assert_null(wcsstr(text, L"Expired certificate"));
}

static int force_plain_count(void)
{
    store *st;
    char err[MGR_ERR_LEN], **pats;
    size_t n = 0;
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_domains_list(st, RULE_NAME_U8, STORE_LIST_FORCE_PLAIN, &pats, &n),
                     STORE_OK);
    store_strings_free(pats, n);
    store_close(st);
    return (int)n;
}

static void set_dns_servers(const char *servers)
{
    store *st;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_set(st, "dns_servers", servers), STORE_OK);
    store_close(st);
}

/* Clicks OK in the rule dialog and waits for the question a domain newly
 * forced plain raises when it publishes DANE (asked on a worker thread). */
static HWND ok_and_wait_for_question(HWND dlg)
{
    wchar_t text[2048];
    post_click(dlg, IDOK);
    HWND box = wait_dialog(dlg, L"Force these domains plain?");
    assert_non_null(box);
    box_text(box, text, 2048);
    printf("# question: %ls\n", text);
    assert_non_null(wcsstr(text, L"dane.test publishes DANE"));
    assert_non_null(wcsstr(text, L"Save the rule anyway?"));
    return box;
}

/* A domain newly forced plain that publishes DANE (the tests' DNS server,
 * asked by the manager) needs a Yes: No keeps the dialog open and saves
 * nothing, Yes saves. */
static void test_forcing_a_dane_domain_asks_first(void **state)
{
    static const unsigned char digest[32] = { 0x11, 0x22 };
    dnsd *dns = dnsd_start();
    assert_non_null(dns);
    dnsd_add_mx(dns, "dane.test", 10, "mx.dane.test");
    dnsd_set_ad(dns, "dane.test");
    dnsd_add_a(dns, "mx.dane.test", 127, 0, 0, 1);
    dnsd_add_tlsa(dns, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(dns, "_25._tcp.mx.dane.test");
    set_dns_servers(dnsd_server(dns));
    HWND page = page_of(IDC_RULES_LIST), lv = GetDlgItem(page, IDC_RULES_LIST);
    select_tab(L"Rules");
    SendMessageW(lv, WM_KEYDOWN, VK_HOME, 0);
    SendMessageW(lv, WM_KEYUP, VK_HOME, 0);
    post_click(page, IDC_RULES_EDIT);
    HWND dlg = wait_dialog(NULL, L"Edit Rule");
    assert_non_null(dlg);
    set_text(dlg, IDC_RULE_FORCE_LIST, L"example.org\r\n*.legacy.example\r\nDANE.test");

    HWND box = ok_and_wait_for_question(dlg);
    screenshot("rule-force-plain-question");
    post_click(box, IDNO);
    assert_true(wait_gone(box));
    assert_true(IsWindowVisible(dlg));
    assert_int_equal(force_plain_count(), 2);

    box = ok_and_wait_for_question(dlg);
    post_click(box, IDYES);
    assert_true(wait_gone(dlg));
    assert_int_equal(force_plain_count(), 3);

    /* As before, for the tests that follow. */
    store *st;
    char err[MGR_ERR_LEN];
    const char *dane[] = { "dane.test" };
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_domains_remove(st, RULE_NAME_U8, STORE_LIST_FORCE_PLAIN, dane, 1),
                     STORE_OK);
    store_close(st);
    set_dns_servers("127.0.0.1:9");
    dnsd_stop(dns);
}

static HWND focus_of(HWND any)
{
    GUITHREADINFO gi;
    memset(&gi, 0, sizeof gi);
    gi.cbSize = sizeof gi;
    DWORD tid = GetWindowThreadProcessId(any, NULL);
    return GetGUIThreadInfo(tid, &gi) ? gi.hwndFocus : NULL;
}

/* Keys are posted to the focused control, as the keyboard would deliver
 * them; the manager's loop (IsDialogMessage) does the rest. */
static void post_key(HWND to, UINT vk)
{
    PostMessageW(to, WM_KEYDOWN, vk, 1);
    PostMessageW(to, WM_KEYUP, vk, 0xC0000001);
}

static HWND wait_focus_change(HWND any, HWND from)
{
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        HWND now = focus_of(any);
        if (now && now != from)
            return now;
        Sleep(20);
    }
    return NULL;
}

/* The keyboard alone: Alt+N opens a new rule, Esc cancels it, Tab moves
 * between controls, Enter on the list edits the selected rule. */
static void test_keyboard(void **state)
{
    select_tab(L"Rules");
    HWND lv = control(main_wnd, IDC_RULES_LIST);
    PostMessageW(lv, WM_LBUTTONDOWN, MK_LBUTTON, MAKELPARAM(5, 5));   /* gives it focus */
    PostMessageW(lv, WM_LBUTTONUP, 0, MAKELPARAM(5, 5));
    for (int waited = 0; waited < WAIT_MS && focus_of(main_wnd) != lv; waited += 20)
        Sleep(20);
    assert_true(focus_of(main_wnd) == lv);

    PostMessageW(lv, WM_SYSCHAR, 'n', 0x20000001);                      /* Alt+N */
    HWND dlg = wait_dialog(NULL, L"New Rule");
    assert_non_null(dlg);
    HWND name = wait_focus_change(main_wnd, lv);
    assert_true(name == GetDlgItem(dlg, IDC_RULE_NAME));               /* first tab stop */
    post_key(name, VK_TAB);
    assert_true(wait_focus_change(main_wnd, name) == GetDlgItem(dlg, IDC_RULE_ENABLED));
    post_key(GetDlgItem(dlg, IDC_RULE_ENABLED), VK_ESCAPE);
    assert_true(wait_gone(dlg));

    HWND back = wait_focus_change(main_wnd, NULL);
    assert_non_null(back);
    post_key(lv, VK_HOME);
    post_key(lv, VK_RETURN);
    dlg = wait_dialog(NULL, L"Edit Rule");
    assert_non_null(dlg);
    post_key(focus_of(main_wnd), VK_ESCAPE);
    assert_true(wait_gone(dlg));
    assert_int_equal(lv_count(lv), 1);
}

static void test_tabs_switch(void **state)
{
    static const struct {
        const wchar_t *title;
        int control;
    } pages[] = { { L"Rules", IDC_RULES_LIST }, { L"Journal", IDC_JOURNAL_LIST },
                  { L"Cache", IDC_CACHE_EXPIRED }, { L"Status", IDC_STATUS_DB } };
    const int n = (int)(sizeof pages / sizeof pages[0]);
    for (int i = n - 1; i >= 0; i--) {
        select_tab(pages[i].title);
        assert_int_equal(SendMessageW(tabs, TCM_GETCURSEL, 0, 0), tab_index(pages[i].title));
        for (int k = 0; k < n; k++)
            assert_int_equal(IsWindowVisible(page_of(pages[k].control)) != 0, k == i);
    }
    select_tab(L"Status");
    wchar_t text[1200], db_w[1024];
    MultiByteToWideChar(CP_UTF8, 0, db_path, -1, db_w, 1024);
    get_text(control(main_wnd, IDC_STATUS_DB), text, 1200);
    assert_non_null(wcsstr(text, db_w));
    get_text(control(main_wnd, IDC_STATUS_VERSION), text, 1200);
    assert_non_null(wcsstr(text, L"TLS Router " TR_TEST_VERSION_W));
    /* The live figures, as the engines last wrote them. */
    get_text(control(main_wnd, IDC_STATUS_FIGURES), text, 1200);
    assert_non_null(wcsstr(text, L" messages, "));
    assert_non_null(wcsstr(text, L"OnArrival: p50 "));
    screenshot("status");
}

/* Which pixels of a screen capture count, and with what. */
typedef int (*pixel_test)(DWORD xrgb, DWORD arg);

/* How many pixels on the screen over a control pass the test, once it has
 * drawn itself afresh. */
static int count_pixels(HWND ctl, pixel_test test, DWORD arg)
{
    RECT rc;
    RedrawWindow(ctl, NULL, NULL, RDW_INVALIDATE | RDW_ERASE | RDW_UPDATENOW);
    Sleep(300);
    GetWindowRect(ctl, &rc);
    int w = rc.right - rc.left, h = rc.bottom - rc.top, found = 0;
    HDC screen = GetDC(NULL), mem = CreateCompatibleDC(screen);
    BITMAPINFO bi = { .bmiHeader = { .biSize = sizeof bi.bmiHeader, .biWidth = w,
                                     .biHeight = -h, .biPlanes = 1, .biBitCount = 32,
                                     .biCompression = BI_RGB } };
    DWORD *px = NULL;
    HBITMAP bmp = CreateDIBSection(mem, &bi, DIB_RGB_COLORS, (void **)&px, NULL, 0);
    assert_non_null(bmp);
    HGDIOBJ old = SelectObject(mem, bmp);
    assert_true(BitBlt(mem, 0, 0, w, h, screen, rc.left, rc.top, SRCCOPY));
    for (int i = 0; i < w * h; i++)
        found += test(px[i] & 0xffffff, arg);
    SelectObject(mem, old);
    DeleteObject(bmp);
    DeleteDC(mem);
    ReleaseDC(NULL, screen);
    return found;
}

/* The alarm red (page_status.c's RGB(192, 0, 0)): the text's own pixels,
 * whatever the font smoothing. */
static int is_reddish(DWORD xrgb, DWORD unused)
{
    unsigned r = (xrgb >> 16) & 0xff, g = (xrgb >> 8) & 0xff, b = xrgb & 0xff;
    (void)unused;
    return r >= 120 && g < 80 && b < 80;
}

static int red_pixels(HWND ctl) { return count_pixels(ctl, is_reddish, 0); }

/* The row of the check list showing this check, or -1. */
static int check_row_of(HWND lv, const wchar_t *name)
{
    wchar_t text[64];
    for (int i = 0; i < lv_count(lv); i++) {
        lv_text(lv, i, 1, text, 64);
        if (wcscmp(text, name) == 0)
            return i;
    }
    return -1;
}

static void assert_check(HWND lv, const wchar_t *name, const wchar_t *status,
                         const wchar_t *in_detail, const wchar_t *in_remedy)
{
    wchar_t text[600];
    int row = check_row_of(lv, name);
    if (row < 0)
        fail_msg("the check %ls is not listed", name);
    lv_text(lv, row, 0, text, 600);
    if (wcscmp(text, status) != 0)
        fail_msg("%ls: status %ls, expected %ls", name, text, status);
    lv_text(lv, row, 2, text, 600);
    if (in_detail && !wcsstr(text, in_detail))
        fail_msg("%ls: detail \"%ls\" lacks \"%ls\"", name, text, in_detail);
    lv_text(lv, row, 3, text, 600);
    if (in_remedy && !wcsstr(text, in_remedy))
        fail_msg("%ls: remedy \"%ls\" lacks \"%ls\"", name, text, in_remedy);
}

/* Waits until the checks started by a click are listed, asking the list
 * all along: the UI thread must answer while they run. */
static void checks_settle(HWND page, HWND lv)
{
    int done = 0, responsive = 1;
    for (int waited = 0; waited < WAIT_MS && !done; waited += 50) {
        DWORD_PTR n = 0;
        if (!SendMessageTimeoutW(lv, LVM_GETITEMCOUNT, 0, 0, SMTO_ABORTIFHUNG, 200, &n))
            responsive = 0;
        done = n > 0 && IsWindowEnabled(GetDlgItem(page, IDC_STATUS_CHECK));
        if (!done)
            Sleep(50);
    }
    assert_true(done);
    assert_true(responsive);
}

/* A row cut to its columns reads whole in a box: Home, Down, Enter opens
 * the second row (iis-smtp, in the table's order). */
static void read_check_by_keyboard(HWND lv)
{
    wchar_t text[2048];
    PostMessageW(lv, WM_LBUTTONDOWN, MK_LBUTTON, MAKELPARAM(5, 5));   /* gives it focus */
    PostMessageW(lv, WM_LBUTTONUP, 0, MAKELPARAM(5, 5));
    for (int waited = 0; waited < WAIT_MS && focus_of(main_wnd) != lv; waited += 20)
        Sleep(20);
    assert_true(focus_of(main_wnd) == lv);
    post_key(lv, VK_HOME);
    post_key(lv, VK_DOWN);
    post_key(lv, VK_RETURN);
    HWND box = wait_dialog(main_wnd, L"TLS Router Manager");
    assert_non_null(box);
    box_text(box, text, 2048);
    printf("# %ls\n", text);
    assert_non_null(wcsstr(text, L"iis-smtp: Failed"));
    assert_non_null(wcsstr(text, L"What to do: Add the SMTP Server feature (Server Manager, Add "
                                 L"Roles and Features), then run the TLS Router installer again."));
    post_click(box, IDOK);
    assert_true(wait_gone(box));
}

/* Check Setup lists the checks of `tlsrouter check`, the Windows ones
 * included (a bare Wine prefix has no IIS); the tests' DNS server answers
 * at once, so the network checks are quick. Meanwhile a file handed off
 * ten minutes ago waits in the rule's Pickup folder: the Plain TCP Server
 * line says so in red, on its own timer, and Refresh brings it back once
 * the file is gone. */
static void test_status_check(void **state)
{
    select_tab(L"Status");
    HWND page = page_of(IDC_STATUS_CHECKS), lv = GetDlgItem(page, IDC_STATUS_CHECKS);
    HWND plain = GetDlgItem(page, IDC_STATUS_PLAIN);
    wchar_t text[1400];
    get_text(plain, text, 1400);
    assert_non_null(wcsstr(text, L"Picking up mail: nothing waits in"));
    assert_int_equal(red_pixels(plain), 0);
    assert_int_equal(lv_count(lv), 0);

    dnsd *dns = dnsd_start();
    assert_non_null(dns);
    set_dns_servers(dnsd_server(dns));
    char waiting[1200], dir_u8[1024];
    WideCharToMultiByte(CP_UTF8, 0, pickup_dir, -1, dir_u8, sizeof dir_u8, NULL, NULL);
    snprintf(waiting, sizeof waiting, "%s\\handed-off.eml", dir_u8);
    assert_int_equal(trtest_write_file(waiting, "x-sender: app@sender.example\r\n"), 0);
    assert_int_equal(trtest_set_mtime(waiting, (long long)plat_wall_ms() - 10 * 60 * 1000), 0);

    LARGE_INTEGER t0;
    QueryPerformanceCounter(&t0);
    send_click(page, IDC_STATUS_CHECK);
    checks_settle(page, lv);
    printf("# setup checks listed in %.0f ms\n", ms_since(t0));
    assert_check(lv, L"database", L"OK", NULL, NULL);
    assert_check(lv, L"iis-smtp", L"Failed", L"not installed", L"Add the SMTP Server feature");
    assert_check(lv, L"rule", L"OK", RULE_NAME, NULL);
    lv_text(lv, check_row_of(lv, L"rule"), 3, text, 1400);
    assert_true(wcscmp(text, L"") == 0);   /* nothing to do */
    assert_check(lv, L"destination-pickup", L"Failed", L"1 file(s) wait", L"Start the Plain TCP");
    assert_check(lv, L"dns", L"OK", NULL, NULL);
    assert_check(lv, L"schannel", L"OK", L"TLS 1.2", NULL);
    const wchar_t *others[] = { L"iisadmin", L"smtpsvc", L"sink-registered", L"sink-bound",
                                L"destination-server", L"source-fqdn", L"outbound-25" };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_true(check_row_of(lv, others[i]) >= 0);
    assert_int_equal(lv_count(lv), 13);
    status_text(text, 1400);
    assert_non_null(wcsstr(text, L"Setup checked:"));

    int alarm = 0;
    QueryPerformanceCounter(&t0);
    for (int waited = 0; waited < WAIT_MS && !alarm; waited += 100) {
        get_text(plain, text, 1400);
        alarm = wcsstr(text, L"1 message waits in") != NULL;
        if (!alarm)
            Sleep(100);
    }
    printf("# after %.0f ms more, without a click: %ls\n", ms_since(t0), text);
    assert_true(alarm);
    assert_non_null(wcsstr(text, pickup_dir));
    assert_non_null(wcsstr(text, L"the oldest for 10 minutes: the Plain TCP Server is not picking "
                                 L"them up \u2014 is it started?"));
    assert_true(red_pixels(plain) > 0);
    screenshot("status-check");
    read_check_by_keyboard(lv);

    assert_int_equal(remove(waiting), 0);
    send_click(page, IDC_STATUS_REFRESH);
    get_text(plain, text, 1400);
    assert_non_null(wcsstr(text, L"Picking up mail: nothing waits in"));
    assert_int_equal(red_pixels(plain), 0);
    set_dns_servers("127.0.0.1:9");
    dnsd_stop(dns);
}

static void test_log_level_changes(void **state)
{
    select_tab(L"Journal");
    HWND page = page_of(IDC_JOURNAL_LIST);
    HWND combo = GetDlgItem(page, IDC_JOURNAL_LOGLEVEL);
    assert_int_equal(SendMessageW(combo, CB_GETCURSEL, 0, 0), 2); /* info, the default */
    SendMessageW(combo, CB_SETCURSEL, 4, 0);
    send_click(page, IDC_JOURNAL_SETLEVEL);

    wchar_t text[512];
    status_text(text, 512);
    assert_non_null(wcsstr(text, L"Full Debug"));
    store *st;
    char err[MGR_ERR_LEN], level[32];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_get(st, "log_level", level, sizeof level), STORE_OK);
    assert_string_equal(level, "full-debug");
    store_close(st);
}

static void test_journal_opens_a_million_rows(void **state)
{
    HWND page = page_of(IDC_JOURNAL_LIST), lv = GetDlgItem(page, IDC_JOURNAL_LIST);
    wchar_t text[512];
    LARGE_INTEGER t0;
    select_tab(L"Rules");
    QueryPerformanceCounter(&t0);
    select_tab(L"Journal");   /* the first showing of the journal */
    journal_settle(page);
    double first_paint = ms_since(t0);
    assert_int_equal(lv_count(lv), JOURNAL_ROWS);
    get_text(GetDlgItem(page, IDC_JOURNAL_COUNT), text, 512);
    printf("# journal of %d rows: tab switch to first paint %.0f ms; manager says \"%ls\"\n",
           JOURNAL_ROWS, first_paint, text);
    assert_true(first_paint < 5000);

    /* Newest first: row 0 is id 1,000,000, the last row id 1. */
    lv_text(lv, 0, 1, text, 512);
    assert_true(wcscmp(text, L"user1000000@d0.example") == 0);
    QueryPerformanceCounter(&t0);
    SendMessageW(lv, LVM_ENSUREVISIBLE, JOURNAL_ROWS - 1, FALSE);
    UpdateWindow(lv);
    RedrawWindow(lv, NULL, NULL, RDW_UPDATENOW);
    lv_text(lv, JOURNAL_ROWS - 1, 1, text, 512);
    printf("# jump to the last row and read it: %.0f ms\n", ms_since(t0));
    assert_true(wcscmp(text, L"user1@d1.example") == 0);
    QueryPerformanceCounter(&t0);
    SendMessageW(lv, LVM_ENSUREVISIBLE, JOURNAL_ROWS / 2, FALSE);
    lv_text(lv, JOURNAL_ROWS / 2, 3, text, 512);
    printf("# jump to the middle row: %.0f ms\n", ms_since(t0));
    assert_true(wcscmp(text, L"plain") == 0);   /* id 500000 is a multiple of 4 */

    /* Filter: every fourth row went plain. */
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_ROUTE), CB_SETCURSEL, 2, 0);
    QueryPerformanceCounter(&t0);
    send_click(page, IDC_JOURNAL_APPLY);
    /* The filter reads the whole index on a worker: the window answers
     * meanwhile and still shows the previous rows. */
    DWORD_PTR shown = 0;
    assert_true(SendMessageTimeoutW(lv, LVM_GETITEMCOUNT, 0, 0, SMTO_ABORTIFHUNG, 200, &shown));
    printf("# filter clicked after %.0f ms; the list answers while it runs (%d rows shown)\n",
           ms_since(t0), (int)shown);
    journal_settle(page);
    printf("# filter route=plain: %.0f ms\n", ms_since(t0));
    assert_int_equal(lv_count(lv), JOURNAL_ROWS / 4);
    lv_text(lv, 1, 1, text, 512);
    assert_true(wcscmp(text, L"user999996@d496.example") == 0);
    /* Reason alone, chosen by its name in the combo. */
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_ROUTE), CB_SETCURSEL, 0, 0);
    assert_true(SendMessageW(GetDlgItem(page, IDC_JOURNAL_REASON), CB_SELECTSTRING, (WPARAM)-1,
                             (LPARAM)L"no-starttls") > 0);
    send_click(page, IDC_JOURNAL_APPLY);
    journal_settle(page);
    assert_int_equal(lv_count(lv), JOURNAL_ROWS / 4);
    lv_text(lv, 0, 4, text, 512);
    assert_true(wcscmp(text, L"no-starttls") == 0);
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_REASON), CB_SETCURSEL, 0, 0);
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_ROUTE), CB_SETCURSEL, 2, 0);

    /* Text and route together: of user99999 and user999990..999999 only
     * 999996 and 999992 went plain. */
    set_text(page, IDC_JOURNAL_FILTER, L"user99999");
    send_click(page, IDC_JOURNAL_APPLY);
    journal_settle(page);
    assert_int_equal(lv_count(lv), 2);
    for (int i = 0; i < lv_count(lv); i++) {
        lv_text(lv, i, 3, text, 512);
        assert_true(wcscmp(text, L"plain") == 0);
        lv_text(lv, i, 1, text, 512);
        assert_non_null(wcsstr(text, L"user99999"));
    }
    set_text(page, IDC_JOURNAL_FILTER, L"");
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_ROUTE), CB_SETCURSEL, 0, 0);
    send_click(page, IDC_JOURNAL_APPLY);
    journal_settle(page);
    assert_int_equal(lv_count(lv), JOURNAL_ROWS);
    screenshot("journal");
}

static void test_journal_exports_csv(void **state)
{
    HWND page = page_of(IDC_JOURNAL_LIST);
    wchar_t csv[1200], text[512];
    _snwprintf(csv, 1199, L"%ls\\journal.csv", work_dir);
    csv[1199] = 0;
    /* Export the plain decisions of one domain, a filter an admin would use:
     * d8.example gets ids 500k+8, all multiples of 4, so 2,000 rows. */
    set_text(page, IDC_JOURNAL_FILTER, L"@d8.example");
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_ROUTE), CB_SETCURSEL, 2, 0);
    send_click(page, IDC_JOURNAL_APPLY);
    journal_settle(page);
    int expected = lv_count(GetDlgItem(page, IDC_JOURNAL_LIST));
    assert_int_equal(expected, JOURNAL_ROWS / 500);

    export_to(page, IDC_JOURNAL_EXPORT, L"Export Journal", csv, L"Exported");
    status_text(text, 512);
    printf("# %ls\n", text);

    FILE *f = _wfopen(csv, L"rb");
    assert_non_null(f);
    char line[2048];
    int lines = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "\xEF\xBB\xBF" "time,recipient,domain,route,reason,mx,tls_version,"
                              "sender,message_id,detail\r\n");
    while (fgets(line, sizeof line, f)) {
        lines++;
        assert_non_null(strstr(line, "@d8.example\",\"d8.example\",\"plain\",\"no-starttls\""));
        assert_non_null(strstr(line, "\"The remote SMTP service does not support TLS.\"\r\n"));
    }
    fclose(f);
    assert_int_equal(lines, expected);

    set_text(page, IDC_JOURNAL_FILTER, L"");
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_ROUTE), CB_SETCURSEL, 0, 0);
    send_click(page, IDC_JOURNAL_APPLY);
    journal_settle(page);
}

/* Auto-refresh: a decision written by another process (the sink) shows up
 * without a click. */
static void test_journal_auto_refresh(void **state)
{
    HWND page = page_of(IDC_JOURNAL_LIST), lv = GetDlgItem(page, IDC_JOURNAL_LIST);
    wchar_t text[512];
    select_tab(L"Journal");
    assert_int_equal(lv_count(lv), JOURNAL_ROWS);
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_AUTO), BM_CLICK, 0, 0);
    assert_int_equal(SendMessageW(GetDlgItem(page, IDC_JOURNAL_AUTO), BM_GETCHECK, 0, 0),
                     BST_CHECKED);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO journal (at_ms, recipient, domain, route, reason, detail) VALUES "
        "(1767225600000 + 2000000000, 'late@new.example', 'new.example', 'plain', "
        "'force-plain-list', 'written while the manager was open')", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    int seen = 0;
    for (int waited = 0; waited < WAIT_MS && !seen; waited += 200) {
        seen = lv_count(lv) == JOURNAL_ROWS + 1;
        if (!seen)
            Sleep(200);
    }
    assert_true(seen);
    lv_text(lv, 0, 1, text, 512);
    assert_true(wcscmp(text, L"late@new.example") == 0);
    SendMessageW(GetDlgItem(page, IDC_JOURNAL_AUTO), BM_CLICK, 0, 0);
}

static void test_expired_cache_clears(void **state)
{
    select_tab(L"Cache");
    HWND page = page_of(IDC_CACHE_EXPIRED), lv = GetDlgItem(page, IDC_CACHE_EXPIRED);
    wchar_t text[256];
    assert_int_equal(lv_count(lv), 3);
    lv_text(lv, 0, 0, text, 256);
    assert_true(wcscmp(text, L"expired-a.example") == 0);
    /* Confirmed by a second sighting or not (the script's third is not). */
    lv_text(lv, 0, 5, text, 256);
    assert_true(wcscmp(text, L"Yes") == 0);
    lv_text(lv, 2, 5, text, 256);
    assert_true(wcscmp(text, L"No") == 0);
    screenshot("cache");
    send_click(page, IDC_CACHE_CLEAR_EXPIRED);
    assert_int_equal(lv_count(lv), 0);
    status_text(text, 256);
    assert_non_null(wcsstr(text, L"cleared (3 domains)"));

    store *st;
    expcache_entry *rows;
    size_t n;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(expcache_list(store_db(st), &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    free(rows);
    store_close(st);
}

/* "Test a domain": the probe runs on a worker thread. The script points
 * the probe at a DNS server that does not answer (dns_servers) with a short
 * deadline, so the result is a failure the admin can read, and the dialog
 * must keep answering messages while the probe waits. */
static void test_probe_dialog(void **state)
{
    select_tab(L"Cache");
    HWND page = page_of(IDC_CACHE_EXPIRED);
    post_click(page, IDC_CACHE_TEST);
    HWND dlg = wait_dialog(NULL, L"Test a Domain");
    assert_non_null(dlg);
    HWND result = GetDlgItem(dlg, IDC_PROBE_RESULT);
    wchar_t text[4096];

    set_text(dlg, IDC_PROBE_DOMAIN, L"bad domain");
    post_click(dlg, IDC_PROBE_START);
    int done = 0;
    for (int waited = 0; waited < WAIT_MS && !done; waited += 50) {
        get_text(result, text, 4096);
        done = wcsstr(text, L"is not a domain name") != NULL;
        if (!done)
            Sleep(50);
    }
    assert_true(done);

    set_text(dlg, IDC_PROBE_DOMAIN, L"nowhere.example");
    LARGE_INTEGER t0;
    QueryPerformanceCounter(&t0);
    post_click(dlg, IDC_PROBE_START);
    int saw_busy = 0, responsive = 1;
    done = 0;
    for (int waited = 0; waited < WAIT_MS && !done; waited += 50) {
        DWORD_PTR len = 0;
        /* The UI thread must answer within 200 ms at every moment. */
        if (!SendMessageTimeoutW(result, WM_GETTEXTLENGTH, 0, 0, SMTO_ABORTIFHUNG, 200, &len))
            responsive = 0;
        saw_busy |= IsWindowVisible(GetDlgItem(dlg, IDC_PROBE_PROGRESS)) != 0;
        get_text(result, text, 4096);
        done = wcsstr(text, L"Result:") != NULL;
        if (!done)
            Sleep(50);
    }
    printf("# probe of nowhere.example answered in %.0f ms:\n%ls\n", ms_since(t0), text);
    assert_true(done);
    assert_true(saw_busy);
    assert_true(responsive);
    assert_non_null(wcsstr(text, L"Domain: nowhere.example"));
    assert_true(wcsstr(text, L"dns-failed") || wcsstr(text, L"timeout"));
    assert_non_null(wcsstr(text, L"could not tell"));
    assert_false(IsWindowVisible(GetDlgItem(dlg, IDC_PROBE_PROGRESS)));
    screenshot("probe");
    post_click(dlg, IDCANCEL);
    assert_true(wait_gone(dlg));

    /* The result went into the probe cache like the sink's own probes. */
    HWND probes = GetDlgItem(page, IDC_CACHE_PROBES);
    int found = 0;
    for (int i = 0; i < lv_count(probes); i++) {
        lv_text(probes, i, 0, text, 256);
        found |= wcscmp(text, L"nowhere.example") == 0;
    }
    assert_true(found);
}

/* Settings: chosen by keyboard, a bad value refused with its reason, a
 * good one stored. */
static void test_settings(void **state)
{
    select_tab(L"Status");
    HWND page = page_of(IDC_STATUS_DB);
    post_click(page, IDC_STATUS_SETTINGS);
    HWND dlg = wait_dialog(NULL, L"Settings");
    assert_non_null(dlg);
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    wchar_t text[1024];
    lv_text(lv, 2, 0, text, 64);
    assert_true(wcscmp(text, L"Probe port") == 0);
    lv_text(lv, 2, 2, text, 64);
    assert_true(wcscmp(text, L"probe_port") == 0);
    post_key(lv, VK_HOME);
    post_key(lv, VK_DOWN);
    post_key(lv, VK_DOWN);
    int shown = 0;
    for (int waited = 0; waited < WAIT_MS && !shown; waited += 20) {
        get_text(GetDlgItem(dlg, IDC_SETTINGS_VALUE), text, 64);
        shown = wcscmp(text, L"25") == 0;
        if (!shown)
            Sleep(20);
    }
    assert_true(shown);
    /* Its help, from the settings table, with the range and default. */
    get_text(GetDlgItem(dlg, IDC_SETTINGS_HELP), text, 1024);
    assert_non_null(wcsstr(text, L"STARTTLS"));
    assert_non_null(wcsstr(text, L"Allowed: a whole number from 1 to 65535. Default: 25."));

    set_text(dlg, IDC_SETTINGS_VALUE, L"abc");
    post_click(dlg, IDC_SETTINGS_SET);
    HWND box = wait_dialog(dlg, L"TLS Router Manager");
    assert_non_null(box);
    box_text(box, text, 1024);
    printf("# refusal shown: %ls\n", text);
    assert_non_null(wcsstr(text, L"probe_port"));
    assert_non_null(wcsstr(text, L"not a whole number"));
    post_click(box, IDOK);
    assert_true(wait_gone(box));

    set_text(dlg, IDC_SETTINGS_VALUE, L"2525");
    send_click(dlg, IDC_SETTINGS_SET);
    lv_text(lv, 2, 1, text, 64);
    assert_true(wcscmp(text, L"2525") == 0);
    screenshot("settings");

    /* The last setting (refresh_max_per_minute) is explained like every
     * other. */
    post_key(lv, VK_END);
    int helped = 0;
    for (int waited = 0; waited < WAIT_MS && !helped; waited += 20) {
        get_text(GetDlgItem(dlg, IDC_SETTINGS_HELP), text, 1024);
        helped = wcsstr(text, L"background probes") && wcsstr(text, L"Default: 600");
        if (!helped)
            Sleep(20);
    }
    assert_true(helped);
    post_click(dlg, IDCANCEL);
    assert_true(wait_gone(dlg));

    store *st;
    char err[MGR_ERR_LEN], value[32];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_get(st, "probe_port", value, sizeof value), STORE_OK);
    assert_string_equal(value, "2525");
    store_close(st);
}

/* Delete asks first; No keeps the rule, Yes removes it and its lists. */
static void test_rule_delete(void **state)
{
    select_tab(L"Rules");
    HWND lv = control(main_wnd, IDC_RULES_LIST);
    wchar_t text[1024];
    post_key(lv, VK_HOME);
    post_key(lv, VK_DELETE);
    HWND box = wait_dialog(main_wnd, L"TLS Router Manager");   /* owned: not the main window */
    assert_non_null(box);
    box_text(box, text, 1024);
    assert_non_null(wcsstr(text, L"Delete the rule \"" RULE_NAME L"\"?"));
    post_click(box, IDNO);
    assert_true(wait_gone(box));
    assert_int_equal(lv_count(lv), 1);

    post_key(lv, VK_DELETE);
    box = wait_dialog(main_wnd, L"TLS Router Manager");
    assert_non_null(box);
    post_click(box, IDYES);
    assert_true(wait_gone(box));
    for (int waited = 0; waited < WAIT_MS && lv_count(lv) != 0; waited += 50)
        Sleep(50);
    assert_int_equal(lv_count(lv), 0);

    store *st;
    store_rule r;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_get(st, RULE_NAME_U8, &r), STORE_ERR_NOT_FOUND);
    store_close(st);
}

/* ---- The rule dialog's wording, Preview and the unchecked lists ---- */

#define PREVIEW_TITLE L"Preview: what this rule would change"

/* Decisions of the last hours, through the journal writer as the sink
 * writes them (the prepared million rows are months old: out of the week). */
static void seed_preview_journal(void)
{
    static const struct { const char *domain; int plain; decide_reason reason;
                          probe_status status; int n; } seed[] = {
        { "a.preview.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3 },
        { "never.preview.example", 1, DECIDE_NO_STARTTLS, PROBE_NO_STARTTLS, 2 },
        { "fresh.preview.example", 0, DECIDE_NEEDS_PROBE, PROBE_NOT_PROBED, 1 },
    };
    store *st;
    char err[MGR_ERR_LEN], rcpt[3][64];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    journal *j = journal_open(store_db(st), err, sizeof err);
    assert_non_null(j);
    for (size_t k = 0; k < sizeof seed / sizeof seed[0]; k++) {
        journal_entry rows[3];
        for (int i = 0; i < seed[k].n; i++) {
            snprintf(rcpt[i], sizeof rcpt[i], "u%d@%s", i, seed[k].domain);
            rows[i] = (journal_entry){ .at_ms = plat_wall_ms() - 3600000,
                                       .message_id = "<preview@corp.example>",
                                       .sender = "app@corp.example", .recipient = rcpt[i],
                                       .domain = seed[k].domain, .plain = seed[k].plain,
                                       .reason = seed[k].reason, .status = seed[k].status };
        }
        assert_int_equal(journal_write(j, rows, (size_t)seed[k].n, err, sizeof err), 0);
    }
    journal_close(j);
    store_close(st);
}

/* The preview's result box: its text checked against the journal's rows
 * as replayed through the data door for the same lists. */
static void assert_preview_shown(HWND dlg, const char *force, const char *never,
                                 const wchar_t *const *lines, const char *shot)
{
    char err[MGR_ERR_LEN];
    wchar_t text[4096], counts[128];
    mgr_rule r = { .force_plain = (char *)force, .never_redirect = (char *)never };
    mgr_preview want;
    assert_int_equal(mgr_rule_preview(db_path, &r, 7, &want, err, sizeof err), 0);
    HWND box = wait_dialog(dlg, PREVIEW_TITLE);
    assert_non_null(box);
    box_text(box, text, 4096);
    printf("# preview shown: %ls\n", text);
    _snwprintf(counts, 127, L"Over the last 7 days, %lu of %lu recipients would",
               (unsigned long)want.changed, (unsigned long)want.looked_at);
    counts[127] = 0;
    assert_non_null(wcsstr(text, counts));
    for (size_t i = 0; lines[i]; i++)
        assert_non_null(wcsstr(text, lines[i]));
    assert_non_null(wcsstr(text, L"Nothing has been saved."));
    mgr_preview_free(&want);
    if (shot)
        screenshot(shot);
    post_click(box, IDOK);
    assert_true(wait_gone(box));
}

/* Unchecks a list holding domains: the question comes, No keeps it. */
static void uncheck_list(HWND dlg, int check_id, int edit_id, int answer)
{
    wchar_t text[1024];
    PostMessageW(GetDlgItem(dlg, check_id), BM_CLICK, 0, 0);
    HWND box = wait_dialog(dlg, L"Delete these domains?");
    assert_non_null(box);
    box_text(box, text, 1024);
    assert_non_null(wcsstr(text, L"holds 1 domain. Unchecked, it is deleted from the rule "
                                 L"when you save."));
    post_click(box, answer);
    assert_true(wait_gone(box));
    int on = answer == IDNO;
    assert_int_equal(IsDlgButtonChecked(dlg, check_id), on ? BST_CHECKED : BST_UNCHECKED);
    assert_int_equal(!!IsWindowEnabled(GetDlgItem(dlg, edit_id)), on);
}

static void test_rule_preview(void **state)
{
    static const wchar_t *const flipped[] = {
        L"a.preview.example: TLS -> Plain (3)", L"never.preview.example: Plain -> TLS (2)",
        L"fresh.preview.example: TLS -> Plain (1)", NULL };
    static const wchar_t *const none[] = { NULL };
    wchar_t text[512];
    seed_preview_journal();
    HWND dlg = open_new_rule_dialog();
    get_text(GetDlgItem(dlg, IDC_RULE_MAIN), text, 512);
    assert_true(wcscmp(text, L"Send to the Plain TCP Server when the recipient's server does "
                             L"not offer TLS") == 0);
    get_text(GetDlgItem(dlg, IDC_RULE_EXPIRED), text, 512);
    assert_non_null(wcsstr(text, L"handshake fails (also when the server offers only old "
                                 L"protocols"));
    set_text(dlg, IDC_RULE_NAME, RULE_NAME);
    SendMessageW(GetDlgItem(dlg, IDC_RULE_FORCE_ON), BM_CLICK, 0, 0);
    SendMessageW(GetDlgItem(dlg, IDC_RULE_NEVER_ON), BM_CLICK, 0, 0);
    set_text(dlg, IDC_RULE_FORCE_LIST, L"*.Preview.example");
    set_text(dlg, IDC_RULE_NEVER_LIST, L"never.preview.example\r\n");
    post_click(dlg, IDC_RULE_PREVIEW);
    assert_preview_shown(dlg, "*.preview.example", "never.preview.example", flipped,
                         "rule-preview");

    /* The keyboard: Alt+P previews from any control of the dialog. */
    PostMessageW(GetDlgItem(dlg, IDC_RULE_NAME), WM_SYSCHAR, 'p', 0x20000001);
    assert_preview_shown(dlg, "*.preview.example", "never.preview.example", flipped, NULL);

    /* Unchecked lists ask first; unchecked, the preview leaves them out
     * and nothing flips. */
    uncheck_list(dlg, IDC_RULE_FORCE_ON, IDC_RULE_FORCE_LIST, IDNO);
    uncheck_list(dlg, IDC_RULE_FORCE_ON, IDC_RULE_FORCE_LIST, IDYES);
    uncheck_list(dlg, IDC_RULE_NEVER_ON, IDC_RULE_NEVER_LIST, IDYES);
    post_click(dlg, IDC_RULE_PREVIEW);
    assert_preview_shown(dlg, "", "", none, NULL);
    post_click(dlg, IDCANCEL);
    assert_true(wait_gone(dlg));

    store *st;
    store_rule *rules = NULL;
    size_t n = 1;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_list(st, &rules, &n), STORE_OK);
    assert_int_equal(n, 0);   /* a preview saves nothing */
    free(rules);
    store_close(st);
}

/* ---- Log tab; journal details and message trace ---- */

static void exec_sql(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Clicks Apply on a tab and waits for the list's count line. */
static void apply_and_settle(HWND page, int apply_id, int count_id)
{
    send_click(page, apply_id);
    count_settle(GetDlgItem(page, count_id));
}

/* Every row's level (column 1) is one of the allowed words. */
static void assert_levels(HWND lv, const wchar_t *const *allowed, int n_allowed)
{
    wchar_t text[64];
    for (int i = 0; i < lv_count(lv); i++) {
        int ok = 0;
        lv_text(lv, i, 1, text, 64);
        for (int k = 0; k < n_allowed; k++)
            ok |= wcscmp(text, allowed[k]) == 0;
        assert_true(ok);
    }
}

/* Six log rows of this test, one of them a formula for the export. */
static void seed_log(void)
{
    exec_sql("INSERT INTO log (at_ms, level, source, message) VALUES"
             " (1767225600000, 0, 'sink', 'gui-log 1: the database could not be opened'),"
             " (1767225601000, 1, 'probe', 'gui-log 2: mx.slow.example answered slowly'),"
             " (1767225602000, 2, 'service', 'gui-log 3: rule reloaded'),"
             " (1767225603000, 3, 'probe', 'gui-log 4: EHLO mx.d.example'),"
             " (1767225604000, 4, 'probe', 'gui-log 5: 250-STARTTLS'),"
             " (1767225605000, 0, 'sink', '=cmd gui-log 6')");
}

static void test_log_tab_filters(void **state)
{
    static const wchar_t *const severe[] = { L"error", L"warning" };
    seed_log();
    select_tab(L"Log");
    HWND page = page_of(IDC_LOG_LIST), lv = GetDlgItem(page, IDC_LOG_LIST);
    wchar_t text[512];
    assert_true(IsWindowVisible(page));
    set_text(page, IDC_LOG_FILTER, L"gui-log");
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
    assert_int_equal(lv_count(lv), 6);
    lv_text(lv, 0, 3, text, 512);                 /* newest first */
    assert_true(wcscmp(text, L"=cmd gui-log 6") == 0);
    lv_text(lv, 1, 1, text, 512);
    assert_true(wcscmp(text, L"full-debug") == 0);
    lv_text(lv, 1, 2, text, 512);
    assert_true(wcscmp(text, L"probe") == 0);
    screenshot("log");

    /* Warning and more severe, as `tlsrouter log --level warning`. */
    SendMessageW(GetDlgItem(page, IDC_LOG_LEVEL), CB_SETCURSEL, LOG_WARNING, 0);
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
    assert_int_equal(lv_count(lv), 3);
    assert_levels(lv, severe, 2);
    lv_text(lv, 1, 3, text, 512);
    assert_true(wcscmp(text, L"gui-log 2: mx.slow.example answered slowly") == 0);

    /* Text in any case, and the source is searched too. */
    SendMessageW(GetDlgItem(page, IDC_LOG_LEVEL), CB_SETCURSEL, LOG_FULL_DEBUG, 0);
    set_text(page, IDC_LOG_FILTER, L"ANSWERED SLOWLY");
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
    assert_int_equal(lv_count(lv), 1);
    set_text(page, IDC_LOG_FILTER, L"service");
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
    assert_true(lv_count(lv) >= 1);
    lv_text(lv, 0, 3, text, 512);
    assert_true(wcscmp(text, L"gui-log 3: rule reloaded") == 0);
}

static void test_log_tab_exports_csv(void **state)
{
    HWND page = page_of(IDC_LOG_LIST);
    wchar_t csv[1200];
    _snwprintf(csv, 1199, L"%ls\\log.csv", work_dir);
    csv[1199] = 0;
    select_tab(L"Log");
    set_text(page, IDC_LOG_FILTER, L"gui-log");
    SendMessageW(GetDlgItem(page, IDC_LOG_LEVEL), CB_SETCURSEL, LOG_DEBUG, 0);
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
    export_to(page, IDC_LOG_EXPORT, L"Export Log", csv, L"Exported 5 log entries");

    FILE *f = _wfopen(csv, L"rb");
    assert_non_null(f);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "\xEF\xBB\xBF" "time,level,source,message\r\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "\",\"error\",\"sink\",\"'=cmd gui-log 6\"\r\n"));
    int rest = 0;
    while (fgets(line, sizeof line, f)) {
        rest++;
        assert_null(strstr(line, "250-STARTTLS"));    /* full debug: filtered out */
    }
    fclose(f);
    assert_int_equal(rest, 4);
    set_text(page, IDC_LOG_FILTER, L"");
    SendMessageW(GetDlgItem(page, IDC_LOG_LEVEL), CB_SETCURSEL, LOG_FULL_DEBUG, 0);
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
}

/* One complaint: three recipients of <trace-1@gui.example>, the newest
 * one first, and a later message of the same sender. */
static void seed_trace(void)
{
    exec_sql("INSERT INTO journal (at_ms, message_id, sender, recipient, domain, route, reason,"
             " mx, detail) VALUES"
             " (1767225600000 + 3000000000, '<trace-1@gui.example>', 'complaint@gui.example',"
             "  'ok@tls.gui.example', 'tls.gui.example', 'tls', 'tls-ok', 'mx.tls.gui.example', ''),"
             " (1767225600000 + 3000000001, '<trace-1@gui.example>', 'complaint@gui.example',"
             "  'old@plain.gui.example', 'plain.gui.example', 'plain', 'no-starttls',"
             "  'mx.plain.gui.example', 'The remote SMTP service does not support TLS.'),"
             " (1767225600000 + 3000000002, '<trace-1@gui.example>', 'complaint@gui.example',"
             "  'sts@policy.gui.example', 'policy.gui.example', 'tls', 'sts-policy',"
             "  'mx.policy.gui.example', ''),"
             " (1767225600000 + 3000000003, '<trace-2@gui.example>', 'complaint@gui.example',"
             "  'later@tls.gui.example', 'tls.gui.example', 'tls', 'tls-ok', 'mx.tls.gui.example',"
             "  '')");
}

static void column_title(HWND lv, int col, wchar_t *out, int len)
{
    LVCOLUMNW c = { 0 };
    c.mask = LVCF_TEXT;
    c.cchTextMax = len;
    lent_text(lv, LVM_GETCOLUMNW, (WPARAM)col, &c, sizeof c, &c.pszText, out, len);
}

/* The explain table's words for a reason, as the manager shows them. */
static void assert_explains(const wchar_t *text, const char *reason)
{
    const explain_text *why = explain_lookup(reason);
    wchar_t title[256], action[2048];
    assert_non_null(why);
    MultiByteToWideChar(CP_UTF8, 0, why->title, -1, title, 256);
    MultiByteToWideChar(CP_UTF8, 0, why->action, -1, action, 2048);
    assert_non_null(wcsstr(text, title));
    assert_non_null(wcsstr(text, action));
}

/* Tab into the list from the Reason filter (Alt+N, Tab, Tab), select the
 * second row with the arrow keys; the details pane explains its reason. */
static void test_journal_details_pane(void **state)
{
    seed_trace();
    select_tab(L"Journal");
    HWND page = page_of(IDC_JOURNAL_LIST), lv = GetDlgItem(page, IDC_JOURNAL_LIST);
    wchar_t text[8192];
    column_title(lv, 7, text, 64);
    assert_true(wcscmp(text, L"Sender") == 0);
    column_title(lv, 8, text, 64);
    assert_true(wcscmp(text, L"Message-ID") == 0);
    set_text(page, IDC_JOURNAL_FILTER, L"trace-1@GUI");      /* the search finds the Message-ID */
    apply_and_settle(page, IDC_JOURNAL_APPLY, IDC_JOURNAL_COUNT);
    assert_int_equal(lv_count(lv), 3);
    lv_text(lv, 0, 7, text, 512);
    assert_true(wcscmp(text, L"complaint@gui.example") == 0);
    lv_text(lv, 0, 8, text, 512);
    assert_true(wcscmp(text, L"<trace-1@gui.example>") == 0);

    HWND reason = GetDlgItem(page, IDC_JOURNAL_REASON);
    PostMessageW(GetDlgItem(page, IDC_JOURNAL_FILTER), WM_SYSCHAR, 'n', 0x20000001);  /* Alt+N */
    for (int waited = 0; waited < WAIT_MS && focus_of(main_wnd) != reason; waited += 20)
        Sleep(20);
    assert_true(focus_of(main_wnd) == reason);
    post_key(reason, VK_TAB);
    HWND apply = wait_focus_change(main_wnd, reason);
    assert_true(apply == GetDlgItem(page, IDC_JOURNAL_APPLY));
    post_key(apply, VK_TAB);
    assert_true(wait_focus_change(main_wnd, apply) == lv);
    post_key(lv, VK_HOME);
    post_key(lv, VK_DOWN);
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        get_text(GetDlgItem(page, IDC_JOURNAL_DETAILS), text, 8192);
        if (wcsstr(text, L"old@plain.gui.example"))
            break;
        Sleep(20);
    }
    assert_non_null(wcsstr(text, L"old@plain.gui.example"));
    assert_non_null(wcsstr(text, L"Message-ID: <trace-1@gui.example>"));
    assert_non_null(wcsstr(text, L"Detail: The remote SMTP service does not support TLS."));
    assert_explains(text, "no-starttls");
    screenshot("journal-details");
}

static void trace_until(HWND dlg, const wchar_t *summary)
{
    wchar_t text[512];
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        get_text(GetDlgItem(dlg, IDC_TRACE_SUMMARY), text, 512);
        if (wcsstr(text, summary))
            return;
        Sleep(50);
    }
    fail_msg("trace: expected \"%ls\", the dialog says \"%ls\"", summary, text);
}

/* The recipients listed, in order, are exactly expected. */
static void assert_recipients(HWND lv, const wchar_t *const *expected, int n)
{
    wchar_t text[512];
    assert_int_equal(lv_count(lv), n);
    for (int i = 0; i < n; i++) {
        lv_text(lv, i, 1, text, 512);
        assert_true(wcscmp(text, expected[i]) == 0);
    }
}

/* Alt+T opens the trace; Enter in the value finds by Message-ID (typed
 * without its angle brackets); then the sender, in another case. */
static void test_journal_trace(void **state)
{
    static const wchar_t *const of_message[] = {
        L"sts@policy.gui.example", L"old@plain.gui.example", L"ok@tls.gui.example" };
    static const wchar_t *const of_sender[] = {
        L"later@tls.gui.example", L"sts@policy.gui.example", L"old@plain.gui.example",
        L"ok@tls.gui.example" };
    select_tab(L"Journal");
    HWND page = page_of(IDC_JOURNAL_LIST);
    PostMessageW(GetDlgItem(page, IDC_JOURNAL_LIST), WM_SYSCHAR, 't', 0x20000001);  /* Alt+T */
    HWND dlg = wait_dialog(NULL, L"Trace a Message");
    assert_non_null(dlg);
    HWND value = GetDlgItem(dlg, IDC_TRACE_VALUE), lv = GetDlgItem(dlg, IDC_TRACE_LIST);
    for (int waited = 0; waited < WAIT_MS && focus_of(main_wnd) != value; waited += 20)
        Sleep(20);
    assert_true(focus_of(main_wnd) == value);
    set_text(dlg, IDC_TRACE_VALUE, L"trace-1@gui.example");
    post_key(value, VK_RETURN);
    trace_until(dlg, L"3 recipients for this Message-ID");
    assert_recipients(lv, of_message, 3);
    wchar_t text[8192];
    lv_text(lv, 1, 4, text, 512);                  /* the reason's title */
    assert_true(wcslen(text) > 0);
    get_text(GetDlgItem(dlg, IDC_TRACE_DETAILS), text, 8192);   /* the first row, selected */
    assert_explains(text, "sts-policy");
    screenshot("journal-trace");

    SendMessageW(GetDlgItem(dlg, IDC_TRACE_BY_SENDER), BM_CLICK, 0, 0);
    set_text(dlg, IDC_TRACE_VALUE, L"Complaint@GUI.example");
    send_click(dlg, IDC_TRACE_FIND);
    trace_until(dlg, L"4 recipients for this sender");
    assert_recipients(lv, of_sender, 4);
    set_text(dlg, IDC_TRACE_VALUE, L"nobody@gui.example");
    send_click(dlg, IDC_TRACE_FIND);
    trace_until(dlg, L"No recipient");
    assert_int_equal(lv_count(lv), 0);
    post_click(dlg, IDCANCEL);
    assert_true(wait_gone(dlg));

    set_text(page, IDC_JOURNAL_FILTER, L"");
    apply_and_settle(page, IDC_JOURNAL_APPLY, IDC_JOURNAL_COUNT);
}

/* ---- 200%: a second manager at 192 DPI ----
 * Wine reads LogPixels once, when a process starts: the value is set for
 * the second manager alone and put back as soon as its window is there, so
 * the first manager and the other tests of the prefix keep 96 DPI. */

static void set_log_pixels(DWORD dpi)
{
    HKEY key;
    assert_int_equal(RegCreateKeyExW(HKEY_CURRENT_USER, L"Control Panel\\Desktop", 0, NULL, 0,
                                     KEY_SET_VALUE, NULL, &key, NULL), ERROR_SUCCESS);
    RegSetValueExW(key, L"LogPixels", 0, REG_DWORD, (const BYTE *)&dpi, sizeof dpi);
    RegCloseKey(key);
}

struct other_ctx { DWORD pid; HWND found; };

static BOOL CALLBACK find_manager_of(HWND hwnd, LPARAM lp)
{
    struct other_ctx *c = (struct other_ctx *)lp;
    wchar_t title[64];
    DWORD pid = 0;
    GetWindowThreadProcessId(hwnd, &pid);
    GetWindowTextW(hwnd, title, 64);
    if (pid == c->pid && IsWindowVisible(hwnd) && wcscmp(title, L"TLS Router Manager") == 0) {
        c->found = hwnd;
        return FALSE;
    }
    return TRUE;
}

/* Starts the manager's executable again on the same database. */
static HWND start_second_manager(PROCESS_INFORMATION *pi)
{
    DWORD pid = 0, len = MAX_PATH;
    wchar_t exe[MAX_PATH], db_w[1024];
    STARTUPINFOW si = { 0 };
    GetWindowThreadProcessId(main_wnd, &pid);
    HANDLE proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    assert_non_null(proc);
    assert_true(QueryFullProcessImageNameW(proc, 0, exe, &len));
    CloseHandle(proc);
    MultiByteToWideChar(CP_UTF8, 0, db_path, -1, db_w, 1024);
    SetEnvironmentVariableW(L"TLSROUTER_DB", db_w);
    si.cb = sizeof si;
    set_log_pixels(192);
    BOOL started = CreateProcessW(exe, NULL, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi);
    struct other_ctx c = { started ? pi->dwProcessId : 0, NULL };
    for (int waited = 0; started && waited < 60000 && !c.found; waited += 100) {
        EnumWindows(find_manager_of, (LPARAM)&c);
        if (!c.found)
            Sleep(100);
    }
    set_log_pixels(96);
    assert_true(started);
    assert_non_null(c.found);
    return c.found;
}

/* The Log tab at 200%: its controls are twice as large as the first
 * manager's, and the rows are there. */
static void test_log_tab_at_200_percent(void **state)
{
    PROCESS_INFORMATION pi;
    HWND first_main = main_wnd, first_tabs = tabs;
    HWND big = start_second_manager(&pi);
    RECT small_rc, big_rc;
    main_wnd = big;                  /* select_tab and page_of work on this window */
    tabs = GetDlgItem(big, IDC_TABS);
    select_tab(L"Log");
    HWND page = page_of(IDC_LOG_LIST), lv = GetDlgItem(page, IDC_LOG_LIST);
    set_text(page, IDC_LOG_FILTER, L"gui-log");
    apply_and_settle(page, IDC_LOG_APPLY, IDC_LOG_COUNT);
    assert_int_equal(lv_count(lv), 6);
    GetWindowRect(GetDlgItem(page, IDC_LOG_FILTER), &big_rc);
    GetWindowRect(control(first_main, IDC_LOG_FILTER), &small_rc);
    printf("# search box: %ld px high at 96 DPI, %ld px at 192 DPI\n",
           small_rc.bottom - small_rc.top, big_rc.bottom - big_rc.top);
    assert_true(big_rc.bottom - big_rc.top >= 2 * (small_rc.bottom - small_rc.top) - 2);
    SetWindowPos(big, HWND_TOP, 0, 0, 0, 0, SWP_NOSIZE);
    RedrawWindow(big, NULL, NULL, RDW_INVALIDATE | RDW_ALLCHILDREN | RDW_UPDATENOW);
    screenshot("log-200");

    PostMessageW(big, WM_CLOSE, 0, 0);
    main_wnd = first_main;
    tabs = first_tabs;
    assert_int_equal(WaitForSingleObject(pi.hProcess, WAIT_MS), WAIT_OBJECT_0);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
}

/* ---- Overview tab and removing one expired domain (issue 15) ---- */

/* The Overview's colours (page_overview.c). */
#define OV_TLS RGB(0, 120, 215)
#define OV_PLAIN RGB(232, 120, 0)
#define OV_RED RGB(196, 32, 32)
/* The chart's height in pixels at 96 DPI, as the manager opens (its 90
 * dialog units grown with the window, in Wine's MS Shell Dlg 2); at 192
 * DPI it must be about twice. */
#define OV_CHART_HEIGHT_96 229

static int is_exactly(DWORD xrgb, DWORD want) { return xrgb == want; }

/* Pixels of exactly this colour on the screen over a control (solid GDI
 * fills keep their colour on a 24-bit screen). */
static int colour_pixels(HWND ctl, COLORREF colour)
{
    DWORD want = ((DWORD)GetRValue(colour) << 16) | ((DWORD)GetGValue(colour) << 8)
                 | GetBValue(colour);
    return count_pixels(ctl, is_exactly, want);
}

/* count recipients of domain, days_ago UTC days before today, through the
 * journal writer the sink uses. */
static void journal_recipients(journal *j, int days_ago, const char *domain,
                               decide_reason reason, int plain, size_t count)
{
    int64_t today = plat_wall_ms() / OVERVIEW_DAY_MS * OVERVIEW_DAY_MS;
    journal_entry rows[40];
    char rcpt[40][300], err[256];
    assert_true(count <= 40);
    for (size_t i = 0; i < count; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "user%zu@%s", i, domain);
        rows[i] = (journal_entry){ .at_ms = today - days_ago * OVERVIEW_DAY_MS + 3600000,
                                   .message_id = "<overview@test>", .sender = "app@sender.example",
                                   .recipient = rcpt[i], .domain = domain, .plain = plain,
                                   .reason = reason,
                                   .status = plain ? PROBE_NO_STARTTLS : PROBE_STARTTLS,
                                   .mx = "mx.example", .tls_version = plain ? "" : "TLSv1.3",
                                   .detail = "", .elapsed_ms = 2 };
    }
    if (journal_write(j, rows, count, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* A week of mail: TLS every day, three domains sent plain (two tied). */
static void seed_week(void)
{
    store *st;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    journal *j = journal_open(store_db(st), err, sizeof err);
    assert_non_null(j);
    for (int day = 0; day < 7; day++)
        journal_recipients(j, day, "tls.example", DECIDE_TLS_OK, 0, 10 + 3 * (size_t)day);
    journal_recipients(j, 1, "notls.example", DECIDE_NO_STARTTLS, 1, 8);
    journal_recipients(j, 3, "forced.example", DECIDE_FORCE_PLAIN, 1, 5);
    journal_recipients(j, 3, "expired.example", DECIDE_CERT_EXPIRED, 1, 5);
    journal_close(j);
    store_close(st);
}

/* The Overview's verdict once the checks started with the manager are in. */
static void wait_verdict(HWND check, wchar_t *text, int len)
{
    for (int waited = 0; waited < 3 * WAIT_MS; waited += 100) {
        get_text(check, text, len);
        if (text[0] && !wcsstr(text, L"Checking"))
            return;
        Sleep(100);
    }
    fail_msg("the Overview's setup checks did not finish: %ls", text);
}

/* The figures are the engines' as they flush them, without a Refresh:
 * an engine that routed 4,321 messages more shows within a few seconds. */
static void assert_figures_follow_the_engines(HWND figures)
{
    wchar_t before[600], now[600], want[64];
    unsigned long long messages = 0;
    get_text(figures, before, 600);
    assert_int_equal(swscanf(before, L"%llu messages", &messages), 1);
    _snwprintf(want, 63, L"%llu messages, ", messages + 4321);
    want[63] = 0;

    store *st;
    char err[MGR_ERR_LEN];
    stats_figures counted, flushed;
    stats *s = stats_new();
    assert_non_null(s);
    for (int i = 0; i < 4321; i++)
        stats_count_message(s, 1, 0, 0, 150);
    stats_snapshot(s, &counted);
    memset(&flushed, 0, sizeof flushed);
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    if (stats_flush(store_db(st), "gui-test", &counted, &flushed, plat_wall_ms(),
                    24 * 3600 * 1000LL, err, sizeof err) != 0)
        fail_msg("%s", err);
    store_close(st);
    stats_free(s);
    for (int waited = 0; waited < WAIT_MS; waited += 200) {
        get_text(figures, now, 600);
        if (wcsstr(now, want))
            return;
        Sleep(200);
    }
    fail_msg("the Overview's figures did not follow: %ls (want %ls)", now, want);
}

/* What every Overview run asserts, at any DPI: the seeded week in the
 * chart (its summary and both bar colours), the top list in order with
 * its reasons in words, the caches, the figures and a red verdict (a bare
 * Wine prefix has no IIS SMTP). */
static HWND assert_overview(void)
{
    select_tab(L"Overview");
    assert_int_equal(tab_index(L"Overview"), 0);
    HWND page = page_of(IDC_OVERVIEW_CHART), chart = GetDlgItem(page, IDC_OVERVIEW_CHART);
    HWND lv = GetDlgItem(page, IDC_OVERVIEW_TOP);
    wchar_t text[600];
    send_click(page, IDC_OVERVIEW_REFRESH);
    get_text(chart, text, 600);
    printf("# chart: %ls\n", text);
    /* 7 days of 10, 13, ... 28 TLS recipients, and 18 plain. */
    assert_non_null(wcsstr(text, L"Last 14 days (UTC): 151 recipients, 133 with TLS, 18 plain."));
    assert_true(colour_pixels(chart, OV_TLS) > 0);
    assert_true(colour_pixels(chart, OV_PLAIN) > 0);
    assert_int_equal(lv_count(lv), 3);
    static const wchar_t *const domains[] = { L"notls.example", L"expired.example",
                                              L"forced.example" };
    static const wchar_t *const counts[] = { L"8", L"5", L"5" };
    for (int i = 0; i < 3; i++) {
        lv_text(lv, i, 0, text, 600);
        assert_true(wcscmp(text, domains[i]) == 0);
        lv_text(lv, i, 1, text, 600);
        assert_true(wcscmp(text, counts[i]) == 0);
    }
    lv_text(lv, 0, 2, text, 600);
    assert_non_null(wcsstr(text, L"(no-starttls)"));
    lv_text(lv, 2, 2, text, 600);
    assert_non_null(wcsstr(text, L"(force-plain-list)"));
    get_text(GetDlgItem(page, IDC_OVERVIEW_CACHES), text, 600);
    assert_non_null(wcsstr(text, L"Expired certificates: "));
    assert_non_null(wcsstr(text, L"Answered from the cache: "));
    get_text(GetDlgItem(page, IDC_OVERVIEW_FIGURES), text, 600);
    assert_non_null(wcsstr(text, L"OnArrival: p50 "));
    assert_figures_follow_the_engines(GetDlgItem(page, IDC_OVERVIEW_FIGURES));
    HWND check = GetDlgItem(page, IDC_OVERVIEW_CHECK);
    wait_verdict(check, text, 600);
    printf("# verdict: %ls\n", text);
    assert_non_null(wcsstr(text, L" failed, "));
    assert_true(colour_pixels(check, OV_RED) > 0);
    assert_int_equal(colour_pixels(check, RGB(16, 124, 16)), 0);
    return chart;
}

static int client_height(HWND hwnd)
{
    RECT rc;
    GetClientRect(hwnd, &rc);
    return rc.bottom;
}

static void test_overview(void **state)
{
    seed_week();
    HWND chart = assert_overview();
    printf("# chart at 96 DPI: %d pixels high\n", client_height(chart));
    assert_in_range(client_height(chart), OV_CHART_HEIGHT_96 * 9 / 10, OV_CHART_HEIGHT_96 * 11 / 10);
    screenshot("overview");
}

/* tests/gui/run_manager_test.sh with TR_GUI_DPI=192 starts the manager in
 * a prefix set to 192 DPI: the chart is about twice as high. */
static void test_overview_at_200_percent(void **state)
{
    seed_week();
    HWND chart = assert_overview();
    printf("# chart at 192 DPI: %d pixels high\n", client_height(chart));
    assert_in_range(client_height(chart), OV_CHART_HEIGHT_96 * 18 / 10,
                    OV_CHART_HEIGHT_96 * 22 / 10);
    screenshot("overview-200");
}

/* Remove Domain (the button, then the Delete key) asks, naming the
 * selected domain; No keeps it, Yes takes it off the list and out of the
 * database, and the other stays. */
static void test_expired_remove_one(void **state)
{
    store *st;
    char err[MGR_ERR_LEN];
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(sqlite3_exec(store_db(st),
        "INSERT INTO expired_cache (domain, mx, first_seen_ms, last_seen_ms, expires_ms) VALUES "
        "('keep-me.example', 'mx.keep-me.example', 1767225600000, 1767225600000, 4102444800000),"
        "('remove-me.example', 'mx.remove-me.example', 1767225600000, 1767225600000, "
        "4102444800000)", NULL, NULL, NULL), SQLITE_OK);
    store_close(st);
    select_tab(L"Cache");
    HWND page = page_of(IDC_CACHE_EXPIRED), lv = GetDlgItem(page, IDC_CACHE_EXPIRED);
    send_click(page, IDC_CACHE_REFRESH);
    assert_int_equal(lv_count(lv), 2);

    PostMessageW(lv, WM_LBUTTONDOWN, MK_LBUTTON, MAKELPARAM(5, 5));   /* gives it focus */
    PostMessageW(lv, WM_LBUTTONUP, 0, MAKELPARAM(5, 5));
    for (int waited = 0; waited < WAIT_MS && focus_of(main_wnd) != lv; waited += 20)
        Sleep(20);
    post_key(lv, VK_HOME);
    post_key(lv, VK_DOWN);
    wchar_t text[1024];
    for (int answer = 0; answer < 2; answer++) {
        if (answer == 0)
            post_click(page, IDC_CACHE_REMOVE_EXPIRED);
        else
            post_key(lv, VK_DELETE);
        HWND box = wait_dialog(main_wnd, L"TLS Router Manager");
        assert_non_null(box);
        box_text(box, text, 1024);
        assert_non_null(wcsstr(text, L"Remove remove-me.example from the expired-certificate "
                                     L"list?"));
        if (answer == 0)
            screenshot("cache-remove-question");
        post_click(box, answer == 0 ? IDNO : IDYES);
        assert_true(wait_gone(box));
        assert_int_equal(lv_count(lv), answer == 0 ? 2 : 1);
    }
    lv_text(lv, 0, 0, text, 256);
    assert_true(wcscmp(text, L"keep-me.example") == 0);
    status_text(text, 1024);
    assert_non_null(wcsstr(text, L"remove-me.example removed from the expired-certificate list"));

    expcache_entry *rows;
    size_t n;
    assert_int_equal(store_open(db_path, &st, err, sizeof err), STORE_OK);
    assert_int_equal(expcache_list(store_db(st), &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].domain, "keep-me.example");
    free(rows);
    store_close(st);
}

static void test_closes(void **state)
{
    DWORD pid = 0;
    GetWindowThreadProcessId(main_wnd, &pid);
    HANDLE proc = OpenProcess(SYNCHRONIZE, FALSE, pid);
    PostMessageW(main_wnd, WM_CLOSE, 0, 0);
    assert_non_null(proc);
    assert_int_equal(WaitForSingleObject(proc, WAIT_MS), WAIT_OBJECT_0);
    CloseHandle(proc);
}

static int read_env(void **state)
{
    const char *db = getenv("TR_GUI_DB"), *dir = getenv("TR_GUI_DIR"),
               *pickup = getenv("TR_GUI_PICKUP");
    if (!db || !dir || !pickup) {
        fprintf(stderr, "run through tests/gui/run_manager_test.sh (TR_GUI_DB, TR_GUI_DIR, "
                        "TR_GUI_PICKUP)\n");
        return -1;
    }
    snprintf(db_path, sizeof db_path, "%s", db);
    MultiByteToWideChar(CP_UTF8, 0, dir, -1, work_dir, 1024);
    MultiByteToWideChar(CP_UTF8, 0, pickup, -1, pickup_dir, 1024);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_manager),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_own_pickup_is_refused),
        cmocka_unit_test(test_invalid_domain_is_refused),
        cmocka_unit_test(test_rule_is_listed_and_stored),
        cmocka_unit_test(test_rule_edit),
        cmocka_unit_test(test_forcing_a_dane_domain_asks_first),
        cmocka_unit_test(test_keyboard),
        cmocka_unit_test(test_journal_opens_a_million_rows),
        cmocka_unit_test(test_tabs_switch),
        cmocka_unit_test(test_status_check),
        cmocka_unit_test(test_log_level_changes),
        cmocka_unit_test(test_journal_exports_csv),
        cmocka_unit_test(test_journal_auto_refresh),
        cmocka_unit_test(test_expired_cache_clears),
        cmocka_unit_test(test_probe_dialog),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_rule_delete),
        /* Before the tests that write decisions of today: the Overview's
         * counts are exact. */
        cmocka_unit_test(test_overview),
        cmocka_unit_test(test_expired_remove_one),
        cmocka_unit_test(test_rule_preview),
        cmocka_unit_test(test_log_tab_filters),
        cmocka_unit_test(test_log_tab_exports_csv),
        cmocka_unit_test(test_journal_details_pane),
        cmocka_unit_test(test_journal_trace),
        cmocka_unit_test(test_log_tab_at_200_percent),
        cmocka_unit_test(test_closes),
    };
    /* At 200% DPI (TR_GUI_DPI, a prefix of its own) only the Overview is
     * looked at. */
    const struct CMUnitTest dpi_tests[] = {
        cmocka_unit_test(test_finds_manager),
        cmocka_unit_test(test_overview_at_200_percent),
        cmocka_unit_test(test_closes),
    };
    const char *dpi = getenv("TR_GUI_DPI");
    if (dpi && *dpi)
        return cmocka_run_group_tests_name("manager_gui_dpi", dpi_tests, read_env, NULL);
    return cmocka_run_group_tests_name("manager_gui", tests, read_env, NULL);
}
