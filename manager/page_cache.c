/* page_cache: the Cache tab. The expired-certificate domains (whether a
 * second sighting confirmed each, and when the sink probes it again) and
 * the probe cache, each with a Clear button (the sink reloads the tables when it next
 * polls, so no restart is needed), one expired domain removed at a time
 * (Remove Domain, or Delete in the list) after a question naming it, and
 * "Test a domain...". */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "manager_res.h"
#include "ui.h"

static const ui_column expired_columns[] = {
    { L"Domain", 180 }, { L"MX", 180 }, { L"Certificate expired on", 140 },
    { L"First seen", 130 }, { L"Last seen", 130 }, { L"Confirmed", 70 },
    { L"Kept until", 130 }, { L"Next re-check", 130 },
};

static const ui_column probe_columns[] = {
    { L"Domain", 160 }, { L"Status", 110 }, { L"MX", 170 }, { L"TLS version", 80 },
    { L"Cipher", 170 }, { L"Certificate valid until", 140 }, { L"Probed", 130 },
    { L"Kept until", 130 }, { L"Error", 300 },
};

static const ui_anchor cache_anchors[] = {
    { IDC_CACHE_EXPIRED, UI_WIDTH }, { IDC_CACHE_PROBES, UI_WIDTH | UI_HEIGHT },
    { IDC_CACHE_CLEAR_PROBES, UI_BOTTOM }, { IDC_CACHE_REFRESH, UI_BOTTOM },
    { IDC_CACHE_TEST, UI_BOTTOM | UI_RIGHT },
};

static ui_layout cache_layout;

static void set_time(HWND lv, int item, int col, int64_t ms)
{
    wchar_t w[40];
    char u[40];
    ui_format_time_ms(ms, w, 40);
    ui_narrow(w, u, sizeof u);
    ui_lv_set_utf8(lv, item, col, u);
}

static void reload_expired(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    HWND lv = GetDlgItem(page, IDC_CACHE_EXPIRED);
    mgr_expired_row *rows;
    size_t n;
    char err[MGR_ERR_LEN];
    ListView_DeleteAllItems(lv);
    if (mgr_expired_list(app->db, &rows, &n, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int item = (int)i;
        ui_lv_set_utf8(lv, item, 0, rows[i].domain);
        ui_lv_set_utf8(lv, item, 1, rows[i].mx);
        set_time(lv, item, 2, rows[i].cert_not_after > 0 ? rows[i].cert_not_after * 1000 : 0);
        set_time(lv, item, 3, rows[i].first_seen_ms);
        set_time(lv, item, 4, rows[i].last_seen_ms);
        /* One sighting is kept only minutes; a confirmed one for days. */
        ui_lv_set_utf8(lv, item, 5, rows[i].confirmed ? "Yes" : "No");
        set_time(lv, item, 6, rows[i].expires_ms);
        set_time(lv, item, 7, rows[i].next_check_ms);
    }
    free(rows);
}

static void reload_probes(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    HWND lv = GetDlgItem(page, IDC_CACHE_PROBES);
    mgr_probe_row *rows;
    size_t n;
    char err[MGR_ERR_LEN];
    ListView_DeleteAllItems(lv);
    if (mgr_probe_list(app->db, &rows, &n, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int item = (int)i;
        ui_lv_set_utf8(lv, item, 0, rows[i].domain);
        ui_lv_set_utf8(lv, item, 1, rows[i].status);
        ui_lv_set_utf8(lv, item, 2, rows[i].mx);
        ui_lv_set_utf8(lv, item, 3, rows[i].tls_version);
        ui_lv_set_utf8(lv, item, 4, rows[i].cipher);
        set_time(lv, item, 5, rows[i].cert_not_after > 0 ? rows[i].cert_not_after * 1000 : 0);
        set_time(lv, item, 6, rows[i].probed_ms);
        set_time(lv, item, 7, rows[i].expires_ms);
        ui_lv_set_utf8(lv, item, 8, rows[i].error);
    }
    free(rows);
}

static void clear_expired(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    char err[MGR_ERR_LEN];
    int n = ListView_GetItemCount(GetDlgItem(page, IDC_CACHE_EXPIRED));
    if (mgr_expired_clear(app->db, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    reload_expired(page);
    app_status(app, L"Expired-certificate list cleared (%d %ls). Those domains are probed "
               L"again on their next message; no restart is needed.", n,
               n == 1 ? L"domain" : L"domains");
}

/* One domain off the list, after the admin said yes to its name. */
static void remove_expired(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    HWND lv = GetDlgItem(page, IDC_CACHE_EXPIRED);
    int item = ui_lv_selected(lv);
    wchar_t domain[256], question[600];
    char domain_u8[1024], err[MGR_ERR_LEN];
    if (item < 0) {
        ui_info(page, L"Select the domain to remove in the expired-certificate list first.");
        return;
    }
    ListView_GetItemText(lv, item, 0, domain, 256);
    _snwprintf(question, 599, L"Remove %ls from the expired-certificate list?\n\nIts mail is "
               L"no longer sent plain on sight of the list: the next message to it is decided "
               L"by a probe again.", domain);
    question[599] = 0;
    if (MessageBoxW(page, question, UI_APP_TITLE, MB_YESNO | MB_ICONQUESTION | MB_DEFBUTTON2)
        != IDYES)
        return;
    ui_narrow(domain, domain_u8, sizeof domain_u8);
    int rc = mgr_expired_remove(app->db, domain_u8, err, sizeof err);
    if (rc < 0) {
        ui_error_utf8(page, err);
        return;
    }
    reload_expired(page);
    app_status(app, rc ? L"%ls removed from the expired-certificate list; no restart is needed."
                       : L"%ls was no longer on the expired-certificate list.", domain);
}

static void clear_probes(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    char err[MGR_ERR_LEN];
    if (mgr_probe_clear(app->db, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    reload_probes(page);
    app_status(app, L"Probe cache cleared. Every domain is probed again on its next message.");
}

static INT_PTR CALLBACK cache_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        ui_lv_init(GetDlgItem(page, IDC_CACHE_EXPIRED), expired_columns,
                   (int)(sizeof expired_columns / sizeof expired_columns[0]));
        ui_lv_init(GetDlgItem(page, IDC_CACHE_PROBES), probe_columns,
                   (int)(sizeof probe_columns / sizeof probe_columns[0]));
        ui_layout_capture(&cache_layout, page, cache_anchors,
                          (int)(sizeof cache_anchors / sizeof cache_anchors[0]));
        return FALSE;
    case WM_SIZE:
        ui_layout_apply(&cache_layout, page);
        return TRUE;
    case WM_NOTIFY: {
        /* Delete in the expired list is Remove Domain. */
        const NMLVKEYDOWN *key = (const NMLVKEYDOWN *)lp;
        if (key->hdr.idFrom == IDC_CACHE_EXPIRED && key->hdr.code == LVN_KEYDOWN
            && key->wVKey == VK_DELETE)
            remove_expired(page);
        return FALSE;
    }
    case WM_APP_REFRESH:
        reload_expired(page);
        reload_probes(page);
        return TRUE;
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDC_CACHE_CLEAR_EXPIRED: clear_expired(page); return TRUE;
        case IDC_CACHE_REMOVE_EXPIRED: remove_expired(page); return TRUE;
        case IDC_CACHE_CLEAR_PROBES: clear_probes(page); return TRUE;
        case IDOK:
        case IDC_CACHE_REFRESH:
            reload_expired(page);
            reload_probes(page);
            return TRUE;
        case IDC_CACHE_TEST:
            probe_dialog_run(PAGE_APP(page), page);
            reload_probes(page);
            return TRUE;
        }
        break;
    }
    return FALSE;
}

HWND page_cache_create(mgr_app *app, HWND parent)
{
    return CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_CACHE), parent, cache_proc,
                              (LPARAM)app);
}
