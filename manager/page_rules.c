/* page_rules: the Rules tab. A ListView of the rules with New, Edit and
 * Delete; Enter or a double click edits, the Delete key deletes. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>

#include "app.h"
#include "manager_res.h"
#include "ui.h"

enum { COL_NAME, COL_ENABLED, COL_SOURCE, COL_DEST, COL_OPTIONS };

static const ui_column rule_columns[] = {
    { L"Name", 150 }, { L"Enabled", 60 }, { L"Source server", 95 },
    { L"Destination Pickup folder", 230 }, { L"Options", 340 },
};

static const ui_anchor rule_anchors[] = {
    { IDC_RULES_LIST, UI_WIDTH | UI_HEIGHT },
    { IDC_RULES_NEW, UI_BOTTOM }, { IDC_RULES_EDIT, UI_BOTTOM }, { IDC_RULES_DELETE, UI_BOTTOM },
};

static ui_layout rules_layout;

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (int in_line = 0; s && *s; s++) {
        if (*s == '\n')
            in_line = 0;
        else if (!in_line)
            in_line = 1, n++;
    }
    return n;
}

static void options_text(const mgr_rule *r, char *out, size_t len)
{
    size_t plain = count_lines(r->force_plain), never = count_lines(r->never_redirect);
    snprintf(out, len, "%s%lu forced plain %s; %lu never redirected",
             r->expired_cert ? "Expired certificate: plain; " : "",
             (unsigned long)plain, plain == 1 ? "domain" : "domains", (unsigned long)never);
}

static void update_buttons(HWND page)
{
    BOOL any = ui_lv_selected(GetDlgItem(page, IDC_RULES_LIST)) >= 0;
    EnableWindow(GetDlgItem(page, IDC_RULES_EDIT), any);
    EnableWindow(GetDlgItem(page, IDC_RULES_DELETE), any);
}

static void reload(HWND page, int64_t select_id)
{
    mgr_app *app = PAGE_APP(page);
    HWND lv = GetDlgItem(page, IDC_RULES_LIST);
    mgr_rule *rules;
    size_t n;
    char err[MGR_ERR_LEN], buf[256];
    SendMessageW(lv, WM_SETREDRAW, FALSE, 0);
    ListView_DeleteAllItems(lv);
    if (mgr_rules_list(app->db, &rules, &n, err, sizeof err) != 0) {
        SendMessageW(lv, WM_SETREDRAW, TRUE, 0);
        ui_error_utf8(page, err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const mgr_rule *r = &rules[i];
        int item = (int)i;
        ui_lv_set_utf8(lv, item, COL_NAME, r->name);
        LVITEMW it = { .mask = LVIF_PARAM, .iItem = item, .lParam = (LPARAM)r->id };
        SendMessageW(lv, LVM_SETITEMW, 0, (LPARAM)&it);
        ui_lv_set_utf8(lv, item, COL_ENABLED, r->enabled ? "Yes" : "No");
        snprintf(buf, sizeof buf, "Virtual server %d", r->source_instance);
        ui_lv_set_utf8(lv, item, COL_SOURCE, buf);
        ui_lv_set_utf8(lv, item, COL_DEST, r->pickup_dir);
        options_text(r, buf, sizeof buf);
        ui_lv_set_utf8(lv, item, COL_OPTIONS, buf);
        if (r->id == select_id || (select_id == 0 && i == 0))
            ListView_SetItemState(lv, item, LVIS_SELECTED | LVIS_FOCUSED,
                                  LVIS_SELECTED | LVIS_FOCUSED);
    }
    mgr_rules_free(rules, n);
    SendMessageW(lv, WM_SETREDRAW, TRUE, 0);
    InvalidateRect(lv, NULL, TRUE);
    update_buttons(page);
}

static int64_t selected_id(HWND page)
{
    HWND lv = GetDlgItem(page, IDC_RULES_LIST);
    int sel = ui_lv_selected(lv);
    if (sel < 0)
        return 0;
    LVITEMW it = { .mask = LVIF_PARAM, .iItem = sel };
    SendMessageW(lv, LVM_GETITEMW, 0, (LPARAM)&it);
    return (int64_t)it.lParam;
}

static void edit_rule(HWND page, int64_t id)
{
    mgr_app *app = PAGE_APP(page);
    int64_t saved = rule_dialog_run(app, page, id);
    if (saved) {
        reload(page, saved);
        app_status(app, id ? L"Rule saved. The sink uses it for the next message."
                           : L"Rule created. The sink uses it for the next message.");
    }
}

static void delete_rule(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    int64_t id = selected_id(page);
    char err[MGR_ERR_LEN];
    wchar_t name[128], question[256];
    if (!id)
        return;
    ListView_GetItemText(GetDlgItem(page, IDC_RULES_LIST),
                         ui_lv_selected(GetDlgItem(page, IDC_RULES_LIST)), 0, name, 128);
    _snwprintf(question, 255, L"Delete the rule \"%ls\"? Mail of its virtual server will then "
               L"always be sent with TLS.", name);
    question[255] = 0;
    if (MessageBoxW(page, question, UI_APP_TITLE, MB_YESNO | MB_ICONQUESTION | MB_DEFBUTTON2)
        != IDYES)
        return;
    if (mgr_rule_delete(app->db, id, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    reload(page, 0);
    app_status(app, L"Rule \"%ls\" deleted.", name);
}

static INT_PTR on_notify(HWND page, NMHDR *nm)
{
    if (nm->idFrom != IDC_RULES_LIST)
        return FALSE;
    switch (nm->code) {
    case LVN_ITEMCHANGED:
        update_buttons(page);
        break;
    case NM_DBLCLK:
    case NM_RETURN:
        if (selected_id(page))
            edit_rule(page, selected_id(page));
        break;
    case LVN_KEYDOWN:
        if (((NMLVKEYDOWN *)nm)->wVKey == VK_DELETE)
            delete_rule(page);
        break;
    }
    return FALSE;
}

static INT_PTR CALLBACK rules_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        ui_lv_init(GetDlgItem(page, IDC_RULES_LIST), rule_columns,
                   (int)(sizeof rule_columns / sizeof rule_columns[0]));
        ui_layout_capture(&rules_layout, page, rule_anchors,
                          (int)(sizeof rule_anchors / sizeof rule_anchors[0]));
        reload(page, 0);
        return FALSE;
    case WM_SIZE:
        ui_layout_apply(&rules_layout, page);
        return TRUE;
    case WM_APP_REFRESH:
        reload(page, selected_id(page));
        return TRUE;
    case WM_NOTIFY:
        return on_notify(page, (NMHDR *)lp);
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDC_RULES_NEW: edit_rule(page, 0); return TRUE;
        case IDOK:
        case IDC_RULES_EDIT:
            if (selected_id(page))
                edit_rule(page, selected_id(page));
            return TRUE;
        case IDC_RULES_DELETE: delete_rule(page); return TRUE;
        }
        break;
    }
    return FALSE;
}

HWND page_rules_create(mgr_app *app, HWND parent)
{
    return CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_RULES), parent, rules_proc,
                              (LPARAM)app);
}
