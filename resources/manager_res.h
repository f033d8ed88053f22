/* Resource identifiers of TLS Router Manager, shared by manager.rc, the
 * manager's C code and the GUI test driver (which finds controls by id). */
#ifndef TR_MANAGER_RES_H
#define TR_MANAGER_RES_H

#define IDI_APP                 100

/* Main window. */
#define IDD_MAIN                200
#define IDC_TABS                201
#define IDC_MAIN_STATUSTEXT     202

/* Rules tab. */
#define IDD_TAB_RULES           300
#define IDC_RULES_LIST          301
#define IDC_RULES_NEW           302
#define IDC_RULES_EDIT          303
#define IDC_RULES_DELETE        304

/* Rule dialog. */
#define IDD_RULE                400
#define IDC_RULE_NAME           401
#define IDC_RULE_ENABLED        402
#define IDC_RULE_SOURCE         403
#define IDC_RULE_DEST           404
#define IDC_RULE_PICKUP         405
#define IDC_RULE_BROWSE         406
#define IDC_RULE_EXPIRED        407
#define IDC_RULE_FORCE_ON       408
#define IDC_RULE_FORCE_LIST     409
#define IDC_RULE_NEVER_ON       410
#define IDC_RULE_NEVER_LIST     411
#define IDC_RULE_DEST_NOTE      412
#define IDC_RULE_MAIN           413
#define IDC_RULE_PREVIEW        414

/* Journal tab. */
#define IDD_TAB_JOURNAL         500
#define IDC_JOURNAL_LIST        501
#define IDC_JOURNAL_FILTER      502
#define IDC_JOURNAL_ROUTE       503
#define IDC_JOURNAL_REASON      504
#define IDC_JOURNAL_APPLY       505
#define IDC_JOURNAL_REFRESH     506
#define IDC_JOURNAL_AUTO        507
#define IDC_JOURNAL_EXPORT      508
#define IDC_JOURNAL_LOGLEVEL    509
#define IDC_JOURNAL_SETLEVEL    510
#define IDC_JOURNAL_COUNT       511
#define IDC_JOURNAL_LEVELLABEL  512
#define IDC_JOURNAL_DETAILS     513
#define IDC_JOURNAL_DETAILSLABEL 514
#define IDC_JOURNAL_TRACE       515

/* Trace-a-message dialog. */
#define IDD_TRACE               1520
#define IDC_TRACE_BY_ID         1521
#define IDC_TRACE_BY_SENDER     1522
#define IDC_TRACE_VALUE         1523
#define IDC_TRACE_FIND          1524
#define IDC_TRACE_SUMMARY       1525
#define IDC_TRACE_LIST          1526
#define IDC_TRACE_DETAILS       1527

/* Log tab. */
#define IDD_TAB_LOG             1500
#define IDC_LOG_LIST            1501
#define IDC_LOG_FILTER          1502
#define IDC_LOG_LEVEL           1503
#define IDC_LOG_APPLY           1504
#define IDC_LOG_REFRESH         1505
#define IDC_LOG_AUTO            1506
#define IDC_LOG_EXPORT          1507
#define IDC_LOG_COUNT           1508
#define IDC_LOG_NOTE            1509

/* Cache tab. */
#define IDD_TAB_CACHE           600
#define IDC_CACHE_EXPIRED       601
#define IDC_CACHE_PROBES        602
#define IDC_CACHE_CLEAR_EXPIRED 603
#define IDC_CACHE_CLEAR_PROBES  604
#define IDC_CACHE_REFRESH       605
#define IDC_CACHE_TEST          606
#define IDC_CACHE_REMOVE_EXPIRED 607

/* Test-a-domain dialog. */
#define IDD_PROBE               700
#define IDC_PROBE_DOMAIN        701
#define IDC_PROBE_START         702
#define IDC_PROBE_PROGRESS      703
#define IDC_PROBE_RESULT        704

/* Status tab. */
#define IDD_TAB_STATUS          800
#define IDC_STATUS_SMTP         801
#define IDC_STATUS_IISADMIN     802
#define IDC_STATUS_SMTPSVC      803
#define IDC_STATUS_START_IISADMIN 804
#define IDC_STATUS_START_SMTPSVC 805
#define IDC_STATUS_SINK         806
#define IDC_STATUS_DB           807
#define IDC_STATUS_VERSION      808
#define IDC_STATUS_REFRESH      809

/* Settings dialog. */
#define IDD_SETTINGS            900
#define IDC_SETTINGS_LIST       901
#define IDC_SETTINGS_VALUE      902
#define IDC_SETTINGS_SET        903
#define IDC_SETTINGS_HELP       904
#define IDC_STATUS_SETTINGS     810
#define IDC_STATUS_PLAIN        811
#define IDC_STATUS_CHECKS       812
#define IDC_STATUS_CHECK        813
#define IDC_STATUS_FIGURES      814

/* Overview tab. */
#define IDD_TAB_OVERVIEW        1100
#define IDC_OVERVIEW_CHART      1101
#define IDC_OVERVIEW_TOP        1102
#define IDC_OVERVIEW_CHECK      1103
#define IDC_OVERVIEW_CACHES     1104
#define IDC_OVERVIEW_FIGURES    1105
#define IDC_OVERVIEW_REFRESH    1106
#define IDC_OVERVIEW_RECHECK    1107
#define IDC_OVERVIEW_TOPLABEL   1108
#define IDC_OVERVIEW_CHECKLABEL 1109
#define IDC_OVERVIEW_CACHESLABEL 1110
#define IDC_OVERVIEW_FIGURESLABEL 1111

#endif
