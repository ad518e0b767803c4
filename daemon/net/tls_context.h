#pragma once

// The server side of TLS for the blocking, thread-per-connection listeners (DESIGN §3
// daemon/net): an asio::ssl::context with TLS 1.2 or later and the configured PEM certificate
// chain and key, checked against each other at start so that a bad file is a clear start error,
// not a failed handshake later.
//
// Threads: made once at start; asio::ssl::stream objects on connection threads share it
// read-only (OpenSSL's SSL_CTX is safe for that).

#include <memory>
#include <string>

#include <asio/ssl.hpp>

#include "core/status.h"

namespace troupe::net {

// InvalidArgument naming the file when the certificate or the key cannot be loaded or do not
// belong together.
Result<std::unique_ptr<asio::ssl::context>> makeServerTlsContext(const std::string& certFile,
                                                                 const std::string& keyFile);

} // namespace troupe::net
