/* settings_dlg: every setting of the database (settings.h: log level, DNS
 * servers, probe port and deadlines, TLS floor, cache lifetimes, journal
 * retention, guards) in one list, each with its label, help, allowed
 * values and default; a value is checked by the store before it is
 * written, and the running sink picks it up through the configuration
 * generation. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "manager_res.h"
#include "settings.h"
#include "ui.h"

enum { COL_LABEL, COL_VALUE, COL_KEY };
static const ui_column setting_columns[] = {
    { L"Setting", 190 }, { L"Value", 160 }, { L"Name (command line)", 160 }
};

static void reload(HWND dlg, mgr_app *app, int select)
{
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    char value[512], err[MGR_ERR_LEN];
    const setting_def *d;
    ListView_DeleteAllItems(lv);
    for (size_t i = 0; (d = setting_at(i)) != NULL; i++) {
        if (mgr_setting_get(app->db, d->key, value, sizeof value, err, sizeof err) != 0)
            snprintf(value, sizeof value, "(unreadable)");
        ui_lv_set_utf8(lv, (int)i, COL_LABEL, d->label);
        ui_lv_set_utf8(lv, (int)i, COL_VALUE, value);
        ui_lv_set_utf8(lv, (int)i, COL_KEY, d->key);
    }
    if (select >= 0)
        ListView_SetItemState(lv, select, LVIS_SELECTED | LVIS_FOCUSED,
                              LVIS_SELECTED | LVIS_FOCUSED);
}

/* The help sentence, then what the value may be and its default. */
static void show_help(HWND dlg, const setting_def *d)
{
    char allowed[256], text[1024];
    setting_allowed_text(d, allowed, sizeof allowed);
    snprintf(text, sizeof text, "%s\r\nAllowed: %s. Default: %s.", d->help, allowed,
             d->default_value[0] ? d->default_value : "empty");
    ui_set_text_utf8(GetDlgItem(dlg, IDC_SETTINGS_HELP), text);
}

static void show_selected(HWND dlg)
{
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    int sel = ui_lv_selected(lv);
    wchar_t value[512];
    const setting_def *d = sel >= 0 ? setting_at((size_t)sel) : NULL;
    if (!d)
        return;
    ListView_GetItemText(lv, sel, COL_VALUE, value, 512);
    SetDlgItemTextW(dlg, IDC_SETTINGS_VALUE, value);
    show_help(dlg, d);
}

static void set_value(HWND dlg, mgr_app *app)
{
    HWND lv = GetDlgItem(dlg, IDC_SETTINGS_LIST);
    int sel = ui_lv_selected(lv);
    char err[MGR_ERR_LEN];
    const setting_def *d = sel >= 0 ? setting_at((size_t)sel) : NULL;
    if (!d) {
        ui_error(dlg, L"Choose a setting in the list first.");
        return;
    }
    char *value = ui_get_text_utf8(GetDlgItem(dlg, IDC_SETTINGS_VALUE));
    if (!value)
        return;
    int rc = mgr_setting_set(app->db, d->key, value, err, sizeof err);
    free(value);
    if (rc != 0) {
        ui_error_utf8(dlg, err);
        SetFocus(GetDlgItem(dlg, IDC_SETTINGS_VALUE));
        SendDlgItemMessageW(dlg, IDC_SETTINGS_VALUE, EM_SETSEL, 0, -1);
        return;
    }
    reload(dlg, app, sel);
    wchar_t wkey[64];
    ui_widen(d->key, wkey, 64);
    app_status(app, L"Setting %ls changed. The sink applies it within a second; no restart "
               L"is needed.", wkey);
}

static INT_PTR CALLBACK settings_proc(HWND dlg, UINT msg, WPARAM wp, LPARAM lp)
{
    mgr_app *app = (mgr_app *)GetWindowLongPtrW(dlg, GWLP_USERDATA);
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(dlg, GWLP_USERDATA, lp);
        ui_lv_init(GetDlgItem(dlg, IDC_SETTINGS_LIST), setting_columns,
                   (int)(sizeof setting_columns / sizeof setting_columns[0]));
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
