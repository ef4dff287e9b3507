// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls/tls.h"

#define CHAIN_MAX 8

/* One certificate chain and its key, as loaded. */
struct cred {
	gnutls_pcert_st pcerts[CHAIN_MAX];
	unsigned n_pcerts;
	gnutls_privkey_t key;
	char fingerprint[100];
	/* Replaced ones are kept: a session may still refer to the chain it was given. */
	struct cred *older;
};

struct xpxe_tls {
	pthread_mutex_t lock;
	struct cred *current;
};

/* The HTTPS server's (libmicrohttpd calls the callback without a context pointer). */
static struct xpxe_tls *bound;

static void cred_free(struct cred *c)
{
	while (c) {
		struct cred *older = c->older;

		for (unsigned i = 0; i < c->n_pcerts; i++)
			gnutls_pcert_deinit(&c->pcerts[i]);
		if (c->key)
			gnutls_privkey_deinit(c->key);
		free(c);
		c = older;
	}
}

static int fail(char *why, size_t size, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return ret;
}

/* The DER encoding of a public key, to compare the certificate's with the key's. */
static int pubkey_der(gnutls_pubkey_t pub, gnutls_datum_t *out)
{
	return gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out);
}

static bool key_matches(struct cred *c)
{
	gnutls_pubkey_t from_key;
	gnutls_datum_t a = { 0 }, b = { 0 };
	bool same = false;

	if (gnutls_pubkey_init(&from_key) < 0)
		return false;
	if (!gnutls_pubkey_import_privkey(from_key, c->key, 0, 0) && !pubkey_der(from_key, &a) &&
	    !pubkey_der(c->pcerts[0].pubkey, &b))
		same = a.size == b.size && !memcmp(a.data, b.data, a.size);
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(from_key);
	return same;
}

int xpxe_tls_open(struct xpxe_tls **out, const char *cert, const char *key, char *why,
		  size_t why_size)
{
	gnutls_datum_t cert_pem = { 0 }, key_pem = { 0 };
	unsigned char digest[32];
	size_t digest_len = sizeof(digest);
	struct cred *c = calloc(1, sizeof(*c));
	struct xpxe_tls *t = calloc(1, sizeof(*t));
	int ret = -EINVAL, g;

	if (!c || !t) {
		ret = -ENOMEM;
		goto out;
	}
	g = gnutls_load_file(cert, &cert_pem);
	if (g < 0) {
		ret = fail(why, why_size, -ENOENT, "tls_cert %s: cannot read it (%s)", cert,
			   gnutls_strerror(g));
		goto out;
	}
	c->n_pcerts = CHAIN_MAX;
	g = gnutls_pcert_list_import_x509_raw(c->pcerts, &c->n_pcerts, &cert_pem,
					      GNUTLS_X509_FMT_PEM, 0);
	if (g < 0 || !c->n_pcerts) {
		c->n_pcerts = 0;
		ret = fail(why, why_size, -EINVAL,
			   "tls_cert %s: not a PEM certificate chain of at most %d certificates "
			   "(%s)",
			   cert, CHAIN_MAX, g < 0 ? gnutls_strerror(g) : "none found");
		goto out;
	}
	g = gnutls_load_file(key, &key_pem);
	if (g < 0) {
		ret = fail(why, why_size, -ENOENT, "tls_key %s: cannot read it (%s)", key,
			   gnutls_strerror(g));
		goto out;
	}
	g = gnutls_privkey_init(&c->key);
	if (g >= 0)
		g = gnutls_privkey_import_x509_raw(c->key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (g < 0) {
		ret = fail(why, why_size, -EINVAL,
			   "tls_key %s: not a PEM private key without a passphrase (%s)", key,
			   gnutls_strerror(g));
		goto out;
	}
	if (!key_matches(c)) {
		ret = fail(why, why_size, -EINVAL,
			   "tls_key %s is not the key of the certificate in %s", key, cert);
		goto out;
	}
	if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &c->pcerts[0].cert, digest, &digest_len) >= 0) {
		size_t pos = 0;

		for (size_t i = 0; i < digest_len && pos + 4 < sizeof(c->fingerprint); i++)
			pos += snprintf(c->fingerprint + pos, sizeof(c->fingerprint) - pos,
					"%s%02X", i ? ":" : "", digest[i]);
	}
	pthread_mutex_init(&t->lock, NULL);
	t->current = c;
	*out = t;
	c = NULL;
	t = NULL;
	ret = 0;
out:
	gnutls_free(cert_pem.data);
	if (key_pem.data) {
		memset(key_pem.data, 0, key_pem.size);
		gnutls_free(key_pem.data);
	}
	cred_free(c);
	free(t);
	return ret;
}

void xpxe_tls_swap(struct xpxe_tls *t, struct xpxe_tls *fresh)
{
	struct cred *c = fresh->current;

	pthread_mutex_lock(&t->lock);
	c->older = t->current;
	t->current = c;
	pthread_mutex_unlock(&t->lock);
	fresh->current = NULL;
	xpxe_tls_free(fresh);
}

void xpxe_tls_free(struct xpxe_tls *t)
{
	if (!t)
		return;
	if (bound == t)
		bound = NULL;
	cred_free(t->current);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void xpxe_tls_bind(struct xpxe_tls *t)
{
	bound = t;
}

void xpxe_tls_describe(const struct xpxe_tls *t, char *buf, size_t size)
{
	snprintf(buf, size, "certificate SHA256 %s",
		 t->current && t->current->fingerprint[0] ? t->current->fingerprint : "?");
}

static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int n_req,
		    const gnutls_pk_algorithm_t *algos, int n_algos, gnutls_pcert_st **pcert,
		    unsigned int *pcert_length, gnutls_privkey_t *key)
{
	struct xpxe_tls *t = bound;

	(void)session;
	(void)req_ca_dn;
	(void)n_req;
	(void)algos;
	(void)n_algos;
	if (!t)
		return -1;
	pthread_mutex_lock(&t->lock);
	*pcert = t->current->pcerts;
	*pcert_length = t->current->n_pcerts;
	*key = t->current->key;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void *xpxe_tls_callback(void)
{
	return (void *)retrieve;
}
