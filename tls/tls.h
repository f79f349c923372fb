/*
 * tls/tls.h - the TLS layer's interface (mbedTLS behind it): a session
 * feeds ciphertext in and takes plaintext out, and the reverse, with
 * handshakes driven by the event loop. Only tls/ includes mbedTLS.
 * Not built yet: listen.tls and backend.tls other than "none" are
 * refused by the configuration loader until it is.
 */
#ifndef MXS_TLS_H
#define MXS_TLS_H

struct tls;

#endif
