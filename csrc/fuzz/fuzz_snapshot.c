/*
 * fuzz_snapshot.c -- libFuzzer target: both snapshot loaders
 * (sz_stream_restore, sz_ctr_stream_restore) on arbitrary bytes.
 *
 * Input layout: u8 flags, then the snapshot bytes.  Flag bit 0 rewrites
 * the checksum trailer to match the (mutated) bytes before loading, so the
 * fuzzer gets past the checksum and reaches the structural checks behind
 * it, which a checksum collision or a forged snapshot would face.
 *
 * Checked: a loader returns SZ_OK with a stream or SZ_ERR_SNAPSHOT with
 * NULL (never anything else: the inputs are small, memory does not run
 * out); a stream it accepts satisfies the invariants (sz__stream_check),
 * snapshots to the bytes it was loaded from, and takes events, a watermark
 * and a flush without a sanitizer report.
 */
#include "../sessionize.h"
#include "../sz_stream_internal.h"
#include "fuzz_input.h"

static void exercise_stream(sz_stream *s, const unsigned char *buf, size_t len)
{
    const char *broken = sz__stream_check(s, 0);
    size_t len2 = sz_stream_snapshot_size(s), nd, ep;
    unsigned char *buf2;
    uint64_t keys[4] = {0, 1, 2, 3}, h[4] = {0, 1, 2, 3};
    int64_t t[4] = {0, 5, 1000, -3};
    sz_stream_stats st;
    sz_status rc;
    if (broken) FZ_FAIL("accepted snapshot breaks an invariant: %s", broken);
    FZ_CHECK(len2 == len);
    buf2 = (unsigned char *)malloc(len2);
    FZ_CHECK(sz_stream_snapshot(s, buf2, len2) == SZ_OK);
    FZ_CHECK(memcmp(buf, buf2, len) == 0);
    free(buf2);
    sz_stream_stats_get(s, &st);
    /* times the restored rule may refuse are refused whole, nothing applied */
    rc = sz_stream_push(s, keys, NULL, t, h, 4, 0, &nd, &ep);
    FZ_CHECK(rc == SZ_OK || rc == SZ_ERR_TIME_OVERFLOW);
    if ((broken = sz__stream_check(s, rc == SZ_OK)) != NULL)
        FZ_FAIL("after a push: %s", broken);
    FZ_CHECK(sz_stream_advance(s, 500) == SZ_OK);
    if ((broken = sz__stream_check(s, 1)) != NULL) FZ_FAIL("after an advance: %s", broken);
    FZ_CHECK(sz_stream_flush(s) == SZ_OK);
    if ((broken = sz__stream_check(s, 1)) != NULL) FZ_FAIL("after a flush: %s", broken);
    sz_stream_stats_get(s, &st);
    FZ_CHECK(st.keys == 0 && st.open_events == 0);
}

static void exercise_ctr(sz_ctr_stream *s, const unsigned char *buf, size_t len)
{
    size_t len2 = sz_ctr_stream_snapshot_size(s), nd, ep;
    unsigned char *buf2;
    sz_ctr_stream_config cfg;
    uint64_t keys[4] = {0, 1, 0, 1};
    uint8_t kinds[4] = {SZ_SEARCH, SZ_SEARCH, SZ_CLICK, SZ_APP_CLOSE};
    int64_t t[4] = {0, 5, 1000, 1001};
    sz_ctr_stream_stats st;
    sz_status rc;
    FZ_CHECK(len2 == len);
    buf2 = (unsigned char *)malloc(len2);
    FZ_CHECK(sz_ctr_stream_snapshot(s, buf2, len2) == SZ_OK);
    FZ_CHECK(memcmp(buf, buf2, len) == 0);
    free(buf2);
    sz_ctr_stream_config_get(s, &cfg);
    rc = sz_ctr_stream_push(s, keys, NULL, kinds, cfg.times ? t : NULL, 4, 0, &nd, &ep);
    FZ_CHECK(rc == SZ_OK || rc == SZ_ERR_TIME_OVERFLOW);
    if (cfg.times) FZ_CHECK(sz_ctr_stream_advance(s, 500) == SZ_OK);
    FZ_CHECK(sz_ctr_stream_flush(s) == SZ_OK);
    sz_ctr_stream_stats_get(s, &st);
    FZ_CHECK(st.open_sessions == 0 && st.buffered == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf;
    size_t len;
    sz_stream *s = (sz_stream *)(void *)&buf;  /* must be overwritten */
    sz_ctr_stream *c = (sz_ctr_stream *)(void *)&buf;
    sz_status st;
    if (size < 1) return 0;
    len = size - 1;
    buf = (unsigned char *)malloc(len ? len : 1);  /* exactly len: ASan sees overreads */
    memcpy(buf, data + 1, len);
    if ((data[0] & 1) && len >= 8) {
        uint64_t sum = sz__hash_bytes(buf, len - 8);
        memcpy(buf + len - 8, &sum, 8);
    }
    st = sz_stream_restore(buf, len, &s);
    if (st == SZ_OK) {
        FZ_CHECK(s != NULL);
        exercise_stream(s, buf, len);
        sz_stream_free(s);
    } else {
        FZ_CHECK(st == SZ_ERR_SNAPSHOT && s == NULL);
    }
    st = sz_ctr_stream_restore(buf, len, &c);
    if (st == SZ_OK) {
        FZ_CHECK(c != NULL);
        exercise_ctr(c, buf, len);
        sz_ctr_stream_free(c);
    } else {
        FZ_CHECK(st == SZ_ERR_SNAPSHOT && c == NULL);
    }
    free(buf);
    return 0;
}
