/* setupdata: the installer's helper for the data folder (issue 7).
 *
 *   tlsrouter-setupdata DATA_DIR
 *       Create DATA_DIR if needed, give it a protected DACL that lets only
 *       SYSTEM (the SMTP service that runs the sink) and Administrators in,
 *       and create or migrate DATA_DIR\tlsrouter.db through the store. An
 *       existing database is never replaced: store_open migrates it in place,
 *       so an upgrade keeps every rule.
 *   tlsrouter-setupdata --show-acl DATA_DIR
 *       Print the folder's DACL as SDDL (for the installer test).
 *   tlsrouter-setupdata --list-servers FILE
 *       Write the IIS SMTP virtual servers (core/iis_read.h: ADSI, else
 *       MetaBase.xml) to FILE, one "N - ServerComment" a line in UTF-16LE
 *       with a byte order mark (what NSIS's FileReadUTF16LE reads), so
 *       Setup offers them by name. Exit 1 when IIS cannot be read.
 *
 * Exit status as the tlsrouter command: 0 done, 1 failure, 2 bad usage; one
 * line on stderr says what went wrong. */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <shellapi.h>

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "iis_read.h"
#include "store.h"

/* Protected (no inheritance from %ProgramData%, whose DACL lets Users read),
 * full access for SYSTEM and BUILTIN\Administrators, inherited by every file
 * and folder created inside (the database, its -wal and -shm files). */
static const wchar_t setupdata_sddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
static const wchar_t setupdata_db_name[] = L"tlsrouter.db";

enum { SETUPDATA_OK = 0, SETUPDATA_FAIL = 1, SETUPDATA_USAGE = 2 };

/* UTF-8 copy of a wide string; 0 on success. */
static int setupdata_to_utf8(const wchar_t *wide, char *buf, size_t len)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, buf, (int)len, NULL, NULL);
    return n > 0 ? 0 : -1;
}

/* One line on stderr: "tlsrouter-setupdata: WHAT PATH: SYSTEM MESSAGE". */
static void setupdata_report(const char *what, const wchar_t *path, DWORD code)
{
    wchar_t wmsg[512] = L"";
    char msg[1024] = "", upath[PLAT_PATH_MAX * 3] = "";
    FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                   code, 0, wmsg, (DWORD)(sizeof wmsg / sizeof wmsg[0]), NULL);
    /* System messages end in CR LF; the report is one line. */
    for (wchar_t *p = wmsg; *p; p++) {
        if (*p == L'\r' || *p == L'\n') {
            *p = 0;
            break;
        }
    }
    setupdata_to_utf8(wmsg, msg, sizeof msg);
    setupdata_to_utf8(path, upath, sizeof upath);
    fprintf(stderr, "tlsrouter-setupdata: %s %s: %s (error %lu)\n", what, upath,
            msg[0] ? msg : "system error", (unsigned long)code);
}

static PSECURITY_DESCRIPTOR setupdata_descriptor(void)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(setupdata_sddl, SDDL_REVISION_1,
                                                              &sd, NULL))
        return NULL;
    return sd;
}

/* Create the folder already protected, so there is no moment in which it
 * carries the open DACL inherited from %ProgramData%. */
static int setupdata_make_folder(const wchar_t *dir, PSECURITY_DESCRIPTOR sd)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, sd, FALSE };
    if (CreateDirectoryW(dir, &sa))
        return 0;
    DWORD code = GetLastError();
    if (code == ERROR_ALREADY_EXISTS) {
        DWORD attrs = GetFileAttributesW(dir);
        if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
            return 0;
        setupdata_report("not a folder:", dir, ERROR_DIRECTORY);
        return -1;
    }
    setupdata_report("cannot create folder", dir, code);
    return -1;
}

/* (Re)apply the DACL: a folder left by an older version, or loosened by
 * hand, is brought back to SYSTEM and Administrators only; the inheritable
 * entries propagate to the files already inside. */
static int setupdata_protect_folder(const wchar_t *dir, PSECURITY_DESCRIPTOR sd)
{
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present) {
        setupdata_report("cannot read the access list for", dir, GetLastError());
        return -1;
    }
    DWORD rc = SetNamedSecurityInfoW((LPWSTR)dir, SE_FILE_OBJECT,
                                     DACL_SECURITY_INFORMATION |
                                         PROTECTED_DACL_SECURITY_INFORMATION,
                                     NULL, NULL, dacl, NULL);
    if (rc != ERROR_SUCCESS) {
        setupdata_report("cannot set the access list of", dir, rc);
        return -1;
    }
    return 0;
}

/* Create or migrate the database through the store; report the schema. */
static int setupdata_open_database(const wchar_t *dir)
{
    wchar_t wpath[PLAT_PATH_MAX];
    char path[PLAT_PATH_MAX * 3], err[512] = "";
    int n = swprintf(wpath, sizeof wpath / sizeof wpath[0], L"%ls\\%ls", dir, setupdata_db_name);
    if (n < 0 || setupdata_to_utf8(wpath, path, sizeof path) != 0) {
        setupdata_report("path too long:", dir, ERROR_FILENAME_EXCED_RANGE);
        return -1;
    }
    store *db = NULL;
    if (store_open(path, &db, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "tlsrouter-setupdata: %s: %s\n", path, err);
        return -1;
    }
    int version = 0;
    store_status st = store_schema_version(db, &version);
    if (st != STORE_OK)
        fprintf(stderr, "tlsrouter-setupdata: %s: %s\n", path, store_error(db));
    else
        printf("database %s ready, schema version %d\n", path, version);
    store_close(db);
    return st == STORE_OK ? 0 : -1;
}

static int setupdata_prepare(const wchar_t *dir)
{
    PSECURITY_DESCRIPTOR sd = setupdata_descriptor();
    if (!sd) {
        setupdata_report("cannot build the access list for", dir, GetLastError());
        return SETUPDATA_FAIL;
    }
    int rc = setupdata_make_folder(dir, sd) == 0 && setupdata_protect_folder(dir, sd) == 0
                 ? SETUPDATA_OK
                 : SETUPDATA_FAIL;
    LocalFree(sd);
    if (rc != SETUPDATA_OK)
        return rc;
    return setupdata_open_database(dir) == 0 ? SETUPDATA_OK : SETUPDATA_FAIL;
}

static int setupdata_show_acl(const wchar_t *dir)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD rc = GetNamedSecurityInfoW(dir, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL,
                                     NULL, NULL, NULL, &sd);
    if (rc != ERROR_SUCCESS) {
        setupdata_report("cannot read the access list of", dir, rc);
        return SETUPDATA_FAIL;
    }
    wchar_t *sddl = NULL;
    int ok = ConvertSecurityDescriptorToStringSecurityDescriptorW(
        sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl, NULL);
    DWORD code = GetLastError();
    LocalFree(sd);
    if (!ok) {
        setupdata_report("cannot format the access list of", dir, code);
        return SETUPDATA_FAIL;
    }
    char text[2048];
    ok = setupdata_to_utf8(sddl, text, sizeof text) == 0;
    LocalFree(sddl);
    if (!ok) {
        setupdata_report("access list too long:", dir, ERROR_INSUFFICIENT_BUFFER);
        return SETUPDATA_FAIL;
    }
    printf("%s\n", text);
    return SETUPDATA_OK;
}

/* One "N - ServerComment" line, in UTF-16. */
static int setupdata_write_server(FILE *f, const iis_server *s)
{
    char line[IIS_TEXT_MAX + 64];
    wchar_t wide[IIS_TEXT_MAX + 64];
    snprintf(line, sizeof line, "%d - %s\r\n", s->instance,
             s->comment[0] ? s->comment : "(no name)");
    int n = MultiByteToWideChar(CP_UTF8, 0, line, -1, wide, IIS_TEXT_MAX + 64);
    if (n <= 1)
        return -1;
    return fwrite(wide, sizeof(wchar_t), (size_t)(n - 1), f) == (size_t)(n - 1) ? 0 : -1;
}

static int setupdata_list_servers(const wchar_t *file)
{
    iis_model *m = NULL;
    iis_read_status st = iis_read_system(&m);
    if (st != IIS_READ_OK) {
        fprintf(stderr, "tlsrouter-setupdata: %s\n", m ? m->why : "out of memory");
        iis_model_free(m);
        return SETUPDATA_FAIL;
    }
    FILE *f = _wfopen(file, L"wb");
    int rc = f && fwrite("\xff\xfe", 1, 2, f) == 2 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < m->n_servers; i++)
        rc = setupdata_write_server(f, &m->servers[i]);
    if (f && fclose(f) != 0)
        rc = -1;
    iis_model_free(m);
    if (rc != 0) {
        fprintf(stderr, "tlsrouter-setupdata: cannot write %ls\n", file);
        return SETUPDATA_FAIL;
    }
    return SETUPDATA_OK;
}

static int setupdata_usage(void)
{
    fprintf(stderr, "usage: tlsrouter-setupdata DATA_DIR | --show-acl DATA_DIR | "
                    "--list-servers FILE\n");
    return SETUPDATA_USAGE;
}

int main(void)
{
    /* The wide command line: the data folder may hold any character. */
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv) {
        fprintf(stderr, "tlsrouter-setupdata: cannot read the command line\n");
        return SETUPDATA_FAIL;
    }
    int rc;
    if (argc == 2 && argv[1][0] != L'-')
        rc = setupdata_prepare(argv[1]);
    else if (argc == 3 && wcscmp(argv[1], L"--show-acl") == 0)
        rc = setupdata_show_acl(argv[2]);
    else if (argc == 3 && wcscmp(argv[1], L"--list-servers") == 0)
        rc = setupdata_list_servers(argv[2]);
    else
        rc = setupdata_usage();
    LocalFree(argv);
    return rc;
}
