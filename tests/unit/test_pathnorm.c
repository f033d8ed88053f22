/* Folder paths compared by spelling, under both rule sets in both builds:
 * separators, trailing separators, "." and "..", case on Windows, drives,
 * UNC shares and the \\?\ prefix. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pathnorm.h"
#include "plat.h"

static void assert_normal(const char *in, pathnorm_rules rules, const char *want)
{
    char out[PLAT_PATH_MAX];
    if (pathnorm_normalise(in, rules, out, sizeof out) != 0)
        fail_msg("\"%s\" was not normalised", in);
    if (strcmp(out, want) != 0)
        fail_msg("\"%s\" became \"%s\", not \"%s\"", in, out, want);
}

static void windows_spellings(void **state)
{
    (void)state;
    const pathnorm_rules w = PATHNORM_WINDOWS;
    assert_normal("C:\\Inetpub\\mailroot\\Pickup", w, "c:\\inetpub\\mailroot\\pickup");
    assert_normal("c:/inetpub/MAILROOT/pickup/", w, "c:\\inetpub\\mailroot\\pickup");
    assert_normal("C:\\inetpub\\\\mailroot\\.\\Pickup\\\\", w, "c:\\inetpub\\mailroot\\pickup");
    assert_normal("C:\\inetpub\\mailroot\\Drop\\..\\Pickup", w, "c:\\inetpub\\mailroot\\pickup");
    assert_normal("C:\\inetpub\\mailroot\\Pickup. ", w, "c:\\inetpub\\mailroot\\pickup");
    assert_normal("\\\\?\\C:\\inetpub\\mailroot\\Pickup", w, "c:\\inetpub\\mailroot\\pickup");
    assert_normal("C:\\..\\..\\inetpub", w, "c:\\inetpub");
    assert_normal("C:\\", w, "c:\\");
    assert_normal("C:/", w, "c:\\");
    assert_normal("C:", w, "c:");
    assert_normal("C:Pickup\\..\\..\\x", w, "c:..\\x");
    assert_normal("\\inetpub\\", w, "\\inetpub");
    assert_normal("\\\\Mail\\Share\\Pickup\\", w, "\\\\mail\\share\\pickup");
    assert_normal("//MAIL/share/../x", w, "\\\\mail\\share\\x");
    assert_normal("\\\\?\\UNC\\mail\\share\\Pickup", w, "\\\\mail\\share\\pickup");
    assert_normal("Pickup\\..\\..\\x\\.", w, "..\\x");
    assert_normal("a\\..", w, ".");
    assert_normal("...\\x", w, "...\\x");
}

static void posix_spellings(void **state)
{
    (void)state;
    const pathnorm_rules p = PATHNORM_POSIX;
    assert_normal("/var/mail/Pickup", p, "/var/mail/Pickup");
    assert_normal("/var//mail/./Pickup/", p, "/var/mail/Pickup");
    assert_normal("/var/mail/x/../Pickup", p, "/var/mail/Pickup");
    assert_normal("/../var", p, "/var");
    assert_normal("/", p, "/");
    assert_normal("///", p, "/");
    assert_normal("a/../../b", p, "../b");
    assert_normal("./a/", p, "a");
    /* A backslash is part of a name here, and case matters. */
    assert_normal("/var/a\\b", p, "/var/a\\b");
    assert_normal("/Var/Pickup.", p, "/Var/Pickup.");
}

static void same_folder(void **state)
{
    (void)state;
    const pathnorm_rules w = PATHNORM_WINDOWS, p = PATHNORM_POSIX;
    assert_int_equal(pathnorm_same("C:\\Inetpub\\mailroot\\Pickup", "c:/inetpub/mailroot/pickup/", w), 1);
    assert_int_equal(pathnorm_same("C:\\inetpub\\mailroot\\Pickup", "C:\\inetpub\\mailroot\\Pickup2", w), 0);
    assert_int_equal(pathnorm_same("C:\\inetpub\\mailroot\\Pickup", "D:\\inetpub\\mailroot\\Pickup", w), 0);
    assert_int_equal(pathnorm_same("C:\\inetpub\\mailroot\\Pickup", "C:\\inetpub\\mailroot\\Pickup\\x", w), 0);
    assert_int_equal(pathnorm_same("C:\\inetpub\\mailroot\\Pickup", "C:\\inetpub\\mailroot", w), 0);
    assert_int_equal(pathnorm_same("/var/mail/Pickup", "/var/mail/pickup", p), 0);
    assert_int_equal(pathnorm_same("/var/mail/Pickup", "/var/mail//Pickup/.", p), 1);
    /* What cannot be normalised is not "the same". */
    assert_int_equal(pathnorm_same("", "", w), 0);
    assert_int_equal(pathnorm_same(NULL, "/x", p), 0);
    assert_int_equal(pathnorm_same("/x", NULL, p), 0);
}

static void bounded_output(void **state)
{
    (void)state;
    char out[8], big[PLAT_PATH_MAX * 2];
    assert_int_equal(pathnorm_normalise("/abcdefgh", PATHNORM_POSIX, out, sizeof out), -1);
    assert_int_equal(pathnorm_normalise("/abcdef", PATHNORM_POSIX, out, sizeof out), 0);
    assert_string_equal(out, "/abcdef");
    /* Longer than any path: cannot tell, so not the same. */
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = '\0';
    assert_int_equal(pathnorm_same(big, big, PATHNORM_POSIX), 0);
    /* A long path that shrinks back is fine. */
    memset(big, 0, sizeof big);
    for (size_t i = 0; i + 5 < PLAT_PATH_MAX; i += 5)
        memcpy(big + i, "/a/..", 5);
    assert_int_equal(pathnorm_same(big, "/", PATHNORM_POSIX), 1);
}

static void native_rules(void **state)
{
    (void)state;
#ifdef _WIN32
    assert_int_equal(pathnorm_native(), PATHNORM_WINDOWS);
#else
    assert_int_equal(pathnorm_native(), PATHNORM_POSIX);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_spellings),
        cmocka_unit_test(posix_spellings),
        cmocka_unit_test(same_folder),
        cmocka_unit_test(bounded_output),
        cmocka_unit_test(native_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
