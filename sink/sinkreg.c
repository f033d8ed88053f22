/* tlsrouter-sinkreg: bind the TLS Router sink to an IIS SMTP virtual
 * server's OnArrival event, remove the binding, or list the bindings, as
 * Microsoft's smtpreg.vbs /add, /remove and /enum do.
 *
 *   tlsrouter-sinkreg register   [--instance N] [--name TEXT] [--progid ID]
 *                                [--rule TEXT] [--priority 0-32767]
 *   tlsrouter-sinkreg unregister [--instance N] [--name TEXT]
 *   tlsrouter-sinkreg bindings
 *
 * Bind only the TLS virtual server's instance, never the Plain TCP
 * server's, or mail handed off to it would come back through the sink.
 * Exit status: 0 done, 1 failed, 2 bad usage. */
#include "seobind.h"

#include <objbase.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#define ERRLEN 512

static const char usage_text[] =
    "usage: tlsrouter-sinkreg register   [--instance N] [--name TEXT] [--progid ID]\n"
    "                                    [--rule TEXT] [--priority 0-32767]\n"
    "       tlsrouter-sinkreg unregister [--instance N] [--name TEXT]\n"
    "       tlsrouter-sinkreg bindings\n"
    "Defaults: instance 1, name \"TLS Router Sink\", ProgID TLSRouter.Sink,\n"
    "rule \"mail from=*\", priority 24575.\n";

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "tlsrouter-sinkreg: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

static int parse_int(const wchar_t *s, int min, int max, int *out)
{
    wchar_t *end;
    long v = wcstol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Options after the command word; which tells what the command accepts. */
static int parse_options(int argc, wchar_t **argv, int full, seobind_options *o)
{
    for (int i = 2; i < argc; i++) {
        const wchar_t *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val)
            return usage("option without a value");
        if (wcscmp(opt, L"--instance") == 0) {
            if (parse_int(val, 1, 100000, &o->instance) != 0)
                return usage("--instance must be a number of 1 or more");
        } else if (wcscmp(opt, L"--name") == 0) {
            o->name = val;
        } else if (full && wcscmp(opt, L"--progid") == 0) {
            o->progid = val;
        } else if (full && wcscmp(opt, L"--rule") == 0) {
            o->rule = val;
        } else if (full && wcscmp(opt, L"--priority") == 0) {
            if (parse_int(val, 0, SEOBIND_MAX_PRIORITY, &o->priority) != 0)
                return usage("--priority must be 0 to 32767");
        } else {
            return usage("unknown option");
        }
        i++;
    }
    return 0;
}

static void print_utf8(FILE *f, const wchar_t *w)
{
    char buf[1024];
    if (WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, sizeof buf, NULL, NULL) > 0)
        fputs(buf, f);
}

static int run(int argc, wchar_t **argv)
{
    seobind_options o;
    char err[ERRLEN] = "";
    wchar_t id[40];
    int removed = 0, rc;

    seobind_defaults(&o);
    if (argc < 2)
        return usage(NULL);
    if (wcscmp(argv[1], L"register") == 0) {
        if ((rc = parse_options(argc, argv, 1, &o)) != 0)
            return rc;
        if (seobind_register(&o, id, 40, err, sizeof err) != 0)
            goto failed;
        printf("Registered binding ");
        print_utf8(stdout, id);
        printf(" \"");
        print_utf8(stdout, o.name);
        printf("\" on SMTP virtual server #%d: sink ", o.instance);
        print_utf8(stdout, o.progid);
        printf(", rule \"");
        print_utf8(stdout, o.rule);
        printf("\", priority %d\n", o.priority);
        return 0;
    }
    if (wcscmp(argv[1], L"unregister") == 0) {
        if ((rc = parse_options(argc, argv, 0, &o)) != 0)
            return rc;
        if (seobind_unregister(o.instance, o.name, &removed, err, sizeof err) != 0)
            goto failed;
        printf("Removed %d binding(s) \"", removed);
        print_utf8(stdout, o.name);
        printf("\" from SMTP virtual server #%d\n", o.instance);
        return 0;
    }
    if (wcscmp(argv[1], L"bindings") == 0) {
        if (argc != 2)
            return usage("bindings takes no options");
        if (seobind_list(stdout, err, sizeof err) != 0)
            goto failed;
        return 0;
    }
    return usage("unknown command");
failed:
    fprintf(stderr, "tlsrouter-sinkreg: %s\n", err[0] ? err : "failed");
    return 1;
}

int main(void)
{
    int argc, rc;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv) {
        fprintf(stderr, "tlsrouter-sinkreg: cannot read the command line\n");
        return 1;
    }
    if (FAILED(CoInitializeEx(NULL, COINIT_APARTMENTTHREADED))) {
        fprintf(stderr, "tlsrouter-sinkreg: COM could not be initialised\n");
        LocalFree(argv);
        return 1;
    }
    rc = run(argc, argv);
    CoUninitialize();
    LocalFree(argv);
    return rc;
}
