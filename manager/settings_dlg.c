/* settings_dlg: every setting of the database (log level, DNS servers,
 * probe port and deadlines, TLS floor, cache lifetimes, journal retention)
 * in one list; a value is checked by the store before it is written, and
 * the running sink picks it up through the configuration generation. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "manager_res.h"
#include "ui.h"

static const ui_column setting_columns[] = { { L"Setting", 170 }, { L"Value", 260 } };

static const struct { const char *key; const wchar_t *help; } helps[] = {
    { "log_level", L"How much the sink logs: error, warning, info, debug or full-debug." },
    { "dns_servers", L"DNS servers for MX look-ups, as HOST[:PORT] separated by commas. "
                     L"Empty: the system's." },
    { "probe_port", L"TCP port the probe connects to on the recipient's mail server (25)." },
    { "connect_timeout_ms", L"Milliseconds to wait for a connection to a mail server." },
    { "reply_timeout_ms", L"Milliseconds to wait for each SMTP reply and the TLS handshake." },
    { "total_timeout_ms", L"Milliseconds one domain's probe may take in all; mail waits at "
                          L"most this long." },
    { "ehlo_name", L"Name the probe gives in EHLO. Empty: this computer's name." },
    { "tls_floor", L"Oldest TLS version the probe accepts: auto (as Schannel allows), tls1.0, "
                   L"tls1.1, tls1.2 or tls1.3." },
    { "verify_chain", L"1: a certificate must chain to a trusted root (IIS default: 0)." },
    { "verify_name", L"1: the certificate must name the mail server (IIS default: 0)." },
    { "ttl_starttls_s", L"Seconds a \"TLS works\" result is kept." },
    { "ttl_no_starttls_s", L"Seconds a \"no STARTTLS\" or failed-TLS result is kept." },
    { "ttl_failure_s", L"Seconds a result that could not tell (DNS, timeout) is kept; also "
                       L"how long one unconfirmed expired-certificate sighting counts." },
    { "ttl_expired_s", L"Seconds a confirmed expired-certificate domain stays on the list after "
                       L"its last sighting (it is re-checked every 4 hours)." },
    { "journal_max_age_days", L"Days the journal keeps its decisions." },
    { "journal_max_rows", L"Most decisions the journal keeps." },
    { "log_max_rows", L"Most diagnostic log lines kept." },
};

static const wchar_t *help_for(const char *key)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (strcmp(helps[i].key, key) == 0)
            return helps[i].help;
    return L"";
}

static void reload(HWND dlg, mgr_app *app, int select)
{
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    char value[512], err[MGR_ERR_LEN];
    ListView_DeleteAllItems(lv);
    for (size_t i = 0; mgr_setting_key(i); i++) {
        const char *key = mgr_setting_key(i);
        if (mgr_setting_get(app->db, key, value, sizeof value, err, sizeof err) != 0)
            snprintf(value, sizeof value, "(unreadable)");
        ui_lv_set_utf8(lv, (int)i, 0, key);
        ui_lv_set_utf8(lv, (int)i, 1, value);
    }
    if (select >= 0)
        ListView_SetItemState(lv, select, LVIS_SELECTED | LVIS_FOCUSED,
                              LVIS_SELECTED | LVIS_FOCUSED);
}

static void show_selected(HWND dlg)
{
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    int sel = ui_lv_selected(lv);
    wchar_t value[512];
    char key[64];
    if (sel < 0 || !mgr_setting_key((size_t)sel))
        return;
    snprintf(key, sizeof key, "%s", mgr_setting_key((size_t)sel));
    ListView_GetItemText(lv, sel, 1, value, 512);
    SetDlgItemTextW(dlg, IDC_SETTINGS_VALUE, value);
    SetDlgItemTextW(dlg, IDC_SETTINGS_HELP, help_for(key));
}

static void set_value(HWND dlg, mgr_app *app)
{
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    int sel = ui_lv_selected(lv);
    char err[MGR_ERR_LEN];
    if (sel < 0 || !mgr_setting_key((size_t)sel)) {
        ui_error(dlg, L"Choose a setting in the list first.");
        return;
    }
    const char *key = mgr_setting_key((size_t)sel);
    char *value = ui_get_text_utf8(GetDlgItem(dlg, IDC_SETTINGS_VALUE));
    if (!value)
        return;
    int rc = mgr_setting_set(app->db, key, value, err, sizeof err);
    free(value);
    if (rc != 0) {
        ui_error_utf8(dlg, err);
        SetFocus(GetDlgItem(dlg, IDC_SETTINGS_VALUE));
        SendDlgItemMessageW(dlg, IDC_SETTINGS_VALUE, EM_SETSEL, 0, -1);
        return;
    }
    reload(dlg, app, sel);
    wchar_t wkey[64];
    ui_widen(key, wkey, 64);
    app_status(app, L"Setting %ls changed. The sink applies it within a second; no restart "
               L"is needed.", wkey);
}

static INT_PTR CALLBACK settings_proc(HWND dlg, UINT msg, WPARAM wp, LPARAM lp)
{
    mgr_app *app = (mgr_app *)GetWindowLongPtrW(dlg, GWLP_USERDATA);
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(dlg, GWLP_USERDATA, lp);
        ui_lv_init(GetDlgItem(dlg, IDC_SETTINGS_LIST), setting_columns, 2);
        reload(dlg, (mgr_app *)lp, 0);
        show_selected(dlg);
        return TRUE;
    case WM_NOTIFY: {
        NMHDR *nm = (NMHDR *)lp;
        if (nm->idFrom == IDC_SETTINGS_LIST && nm->code == LVN_ITEMCHANGED
            && (((NMLISTVIEW *)lp)->uNewState & LVIS_SELECTED))
            show_selected(dlg);
        return FALSE;
    }
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDOK:
        case IDC_SETTINGS_SET:
            set_value(dlg, app);
            return TRUE;
        case IDCANCEL:
            EndDialog(dlg, 0);
            return TRUE;
        }
        break;
    }
    return FALSE;
}

void settings_dialog_run(mgr_app *app, HWND owner)
{
    DialogBoxParamW(app->inst, MAKEINTRESOURCEW(IDD_SETTINGS), owner, settings_proc, (LPARAM)app);
}
