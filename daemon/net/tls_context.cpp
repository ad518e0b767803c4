#include "net/tls_context.h"

#include <openssl/ssl.h>

namespace troupe::net {

Result<std::unique_ptr<asio::ssl::context>> makeServerTlsContext(const std::string& certFile,
                                                                 const std::string& keyFile) {
    if (certFile.empty() || keyFile.empty())
        return Status(ErrorCode::InvalidArgument,
                      "TLS needs both tls.cert_file and tls.key_file (one is missing)");
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    asio::error_code ec;
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
    context->use_certificate_chain_file(certFile, ec);
    if (ec)
        return Status(ErrorCode::InvalidArgument,
                      "cannot load TLS certificate " + certFile + ": " + ec.message());
    context->use_private_key_file(keyFile, asio::ssl::context::pem, ec);
    if (ec)
        return Status(ErrorCode::InvalidArgument,
                      "cannot load TLS key " + keyFile + ": " + ec.message());
    if (SSL_CTX_check_private_key(context->native_handle()) != 1)
        return Status(ErrorCode::InvalidArgument,
                      "TLS key " + keyFile + " does not match the certificate " + certFile);
    return context;
}

} // namespace troupe::net
