# trmanagerdata: the manager's data door (mgr_data.c, mgr_journal.c,
# mgr_log.c, mgr_view.c, mgr_cache.c, mgr_probe.c, mgr_preview.c,
# mgr_overview.c), portable C over the core. Declared once, here; the manager
# and the tests link it in both builds.
set(TR_MANAGER_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(trmanagerdata STATIC ${TR_MANAGER_DIR}/mgr_data.c ${TR_MANAGER_DIR}/mgr_journal.c
            ${TR_MANAGER_DIR}/mgr_log.c ${TR_MANAGER_DIR}/mgr_view.c
            ${TR_MANAGER_DIR}/mgr_cache.c ${TR_MANAGER_DIR}/mgr_probe.c
            ${TR_MANAGER_DIR}/mgr_preview.c ${TR_MANAGER_DIR}/mgr_overview.c)
target_include_directories(trmanagerdata PUBLIC ${TR_MANAGER_DIR})
target_link_libraries(trmanagerdata PUBLIC trcore)
tr_target_warnings(trmanagerdata)
