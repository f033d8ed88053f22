/* Replay the kept fuzz inputs (fuzz/corpus/<name>/) through the same fuzz
 * entry points, compiled here without libFuzzer, in both builds. Each entry
 * aborts on a broken invariant, and the sanitizers of the native debug
 * build catch memory errors, so a fixed finding stays fixed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"
#include "trtest.h"

#define LLVMFuzzerTestOneInput fuzz_domain_entry
#include "../../fuzz/fuzz_domain.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mtasts_policy_entry
#include "../../fuzz/fuzz_mtasts_policy.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mtasts_txt_entry
#include "../../fuzz/fuzz_mtasts_txt.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_https_entry
#include "../../fuzz/fuzz_https.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_pickup_entry
#include "../../fuzz/fuzz_pickup.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_rcptlist_entry
#include "../../fuzz/fuzz_rcptlist.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_smtp_reply_entry
#include "../../fuzz/fuzz_smtp_reply.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_metabase_entry
#include "../../fuzz/fuzz_metabase.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_entry)(const uint8_t *data, size_t size);

static int replay_one(const char *path, void *arg)
{
    fuzz_entry entry = *(fuzz_entry *)arg;
    size_t len = 0;
    char *data = trtest_read_file(path, &len);
    if (!data) {
        print_error("cannot read %s\n", path);
        return -1;
    }
    entry((const uint8_t *)data, len);
    free(data);
    return 0;
}

static void replay(const char *name, fuzz_entry entry)
{
    char dir[1024];
    long n;
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", TR_TEST_SOURCE_DIR, name);
    n = corpus_each(dir, replay_one, &entry);
    if (n <= 0)
        print_error("no inputs replayed from %s\n", dir);
    assert_true(n > 0);
}

static void test_domain(void **cm) { (void)cm; replay("domain", fuzz_domain_entry); }
static void test_mtasts_policy(void **cm)
{
    (void)cm;
    replay("mtasts_policy", fuzz_mtasts_policy_entry);
}
static void test_mtasts_txt(void **cm) { (void)cm; replay("mtasts_txt", fuzz_mtasts_txt_entry); }
static void test_https(void **cm) { (void)cm; replay("https", fuzz_https_entry); }
static void test_pickup(void **cm) { (void)cm; replay("pickup", fuzz_pickup_entry); }
static void test_rcptlist(void **cm) { (void)cm; replay("rcptlist", fuzz_rcptlist_entry); }
static void test_smtp_reply(void **cm)
{
    (void)cm;
    replay("smtp_reply", fuzz_smtp_reply_entry);
}
static void test_metabase(void **cm) { (void)cm; replay("metabase", fuzz_metabase_entry); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_mtasts_policy),
        cmocka_unit_test(test_mtasts_txt),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_pickup),
        cmocka_unit_test(test_rcptlist),
        cmocka_unit_test(test_smtp_reply),
        cmocka_unit_test(test_metabase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
