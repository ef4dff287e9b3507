/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_TLS_H
#define XPXE_TLS_H

#include <stddef.h>

/*
 * The HTTPS server's certificate and key (GnuTLS, the library libmicrohttpd
 * speaks TLS through). They are handed to each new TLS session by a callback,
 * not fixed when the server starts, so `xpxe reload` puts a new certificate
 * in place for the next handshake while sessions in flight keep theirs.
 */

struct xpxe_tls;

/*
 * Reads the PEM certificate chain CERT and the private key KEY. Returns 0 and
 * *OUT, or -errno / -EINVAL with WHY saying what is wrong (unreadable, not
 * PEM, a key that does not match the certificate).
 */
int xpxe_tls_open(struct xpxe_tls **out, const char *cert, const char *key, char *why,
		  size_t why_size);

/* Replaces the certificate and key of T with those of FRESH (which it takes over). */
void xpxe_tls_swap(struct xpxe_tls *t, struct xpxe_tls *fresh);

/* Frees T and every certificate it ever served. */
void xpxe_tls_free(struct xpxe_tls *t);

/*
 * The callback for libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK (a
 * gnutls_certificate_retrieve_function2): it serves the current certificate
 * of the T given to xpxe_tls_bind.
 */
void *xpxe_tls_callback(void);

/* Names the object xpxe_tls_callback serves from (one HTTPS server per process). */
void xpxe_tls_bind(struct xpxe_tls *t);

/* "SHA256 fingerprint" of the current certificate, for logs. */
void xpxe_tls_describe(const struct xpxe_tls *t, char *buf, size_t size);

#endif /* XPXE_TLS_H */
