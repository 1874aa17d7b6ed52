/*
 * Fuzz target for tlshello_parse(): results stay in the enum and in bounds,
 * need always moves forward, and cutting the input anywhere (or following
 * need from zero) never gives another verdict than the whole input. abort()
 * marks a violation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlshello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one(const struct tls_hello *h, enum tlshello_result r, size_t len,
    size_t need)
{
	size_t i;

	switch (r) {
	case TLSHELLO_OK:
		if (h->error != NULL || need != 0)
			abort();
		if (h->sni_len > TLSHELLO_SNI_MAX || h->sni[h->sni_len] != '\0' ||
		    h->has_sni != (h->sni_len > 0))
			abort();
		if (h->alpn_count > TLSHELLO_ALPN_MAX ||
		    (h->alpn_count > 0 && !h->has_alpn))
			abort();
		for (i = 0; i < h->alpn_count; i++)
			if (h->alpn_len[i] == 0 || h->alpn_len[i] > TLSHELLO_ALPN_LEN ||
			    h->alpn[i][h->alpn_len[i]] != '\0')
				abort();
		if (h->records == 0 || h->records > TLSHELLO_RECORDS_MAX ||
		    h->hello_len > len || h->hello_len < 5 + 4 + 41)
			abort();
		break;
	case TLSHELLO_NEED_MORE:
		if (need <= len || h->error != NULL)
			abort();
		break;
	case TLSHELLO_NOT_TLS:
		if (len == 0 || need != 0)
			abort();
		break;
	case TLSHELLO_INVALID:
		if (h->error == NULL || need != 0)
			abort();
		break;
	default:
		abort();
	}
}

/* A prefix's verdict, unless it waits, is the whole input's. */
static void
check_same(const struct tls_hello *a, enum tlshello_result ra,
    const struct tls_hello *b, enum tlshello_result rb)
{
	if (ra != rb)
		abort();
	if (ra == TLSHELLO_INVALID && strcmp(a->error, b->error) != 0)
		abort();
	if (ra == TLSHELLO_OK && (a->hello_len != b->hello_len ||
	    a->sni_len != b->sni_len || memcmp(a->sni, b->sni, a->sni_len) != 0 ||
	    a->ech != b->ech || a->tls13 != b->tls13))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello full, part;
	enum tlshello_result rf, rp;
	size_t need, have, k, i;
	uint32_t seed = 2166136261u;
	uint8_t *copy;

	rf = tlshello_parse(data, size, &full, &need);
	check_one(&full, rf, size, need);

	/* A caller that waits for need bytes each time. */
	have = 0;
	for (;;) {
		rp = tlshello_parse(data, have, &part, &need);
		check_one(&part, rp, have, need);
		if (rp != TLSHELLO_NEED_MORE)
			break;
		if (need > size) {
			/* The awaited bytes are not all there: the whole input
			 * may still wait or show a fault early, never pass, and
			 * is no other protocol once its first byte was seen. */
			if (rf == TLSHELLO_OK || (rf == TLSHELLO_NOT_TLS && have > 0))
				abort();
			break;
		}
		have = need;
	}
	if (rp != TLSHELLO_NEED_MORE)
		check_same(&part, rp, &full, rf);

	/* A few cuts chosen from the input, each in a buffer of its own size
	 * so that a read past the cut is caught. */
	for (i = 0; i < size && i < 64; i++)
		seed = (seed ^ data[i]) * 16777619u;
	for (i = 0; i < 4 && size > 0; i++) {
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % size;
		if ((copy = malloc(k ? k : 1)) == NULL)
			return 0;
		memcpy(copy, data, k);
		rp = tlshello_parse(copy, k, &part, &need);
		free(copy);
		check_one(&part, rp, k, need);
		if (rp == TLSHELLO_NEED_MORE) {
			if (rf == TLSHELLO_OK && need > full.hello_len)
				abort();
		} else
			check_same(&part, rp, &full, rf);
	}
	return 0;
}
