#include "client/client.h"

#include <functional>

#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TProtocolException.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "troupe_idl/Actordb.h"

namespace troupe::client {

namespace gen = ::troupe::thrift::gen;
using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TProtocolException;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;

namespace {

// A TLS socket factory whose connections encrypt without checking the server's certificate
// (ConnectOptions::tlsCaFile empty). Thrift's TSSLSocket rejects any certificate that fails
// verification even when authentication is off, so the verification result is cleared here.
class UncheckedTlsFactory : public apache::thrift::transport::TSSLSocketFactory {
public:
    UncheckedTlsFactory() : TSSLSocketFactory(apache::thrift::transport::SSLTLS) {
        authenticate(false);
        SSL_CTX_set_verify(ctx_->get(), SSL_VERIFY_NONE, [](int, X509_STORE_CTX* store) {
            X509_STORE_CTX_set_error(store, X509_V_OK);
            return 1;
        });
    }
};

ErrorCode errorCodeOf(gen::ErrorCode::type code) {
    switch (code) {
    case gen::ErrorCode::NotLoggedIn:
    case gen::ErrorCode::LoginFailed:
        return ErrorCode::NotLoggedIn;
    case gen::ErrorCode::EmptyActorName:
        return ErrorCode::EmptyActorName;
    case gen::ErrorCode::InvalidActorName:
        return ErrorCode::InvalidActorName;
    case gen::ErrorCode::InvalidType:
        return ErrorCode::InvalidType;
    case gen::ErrorCode::NotPermitted:
        return ErrorCode::NotPermitted;
    case gen::ErrorCode::SqlError:
        return ErrorCode::SqlError;
    case gen::ErrorCode::ConsensusTimeout:
        return ErrorCode::ConsensusTimeout;
    case gen::ErrorCode::ConsensusImpossibleAtm:
        return ErrorCode::ConsensusImpossibleAtm;
    case gen::ErrorCode::LocalNodeMissing:
    case gen::ErrorCode::MissingGroupInsert:
    case gen::ErrorCode::MissingNodesInsert:
    case gen::ErrorCode::MissingRootUser:
        return ErrorCode::InvalidArgument;
    case gen::ErrorCode::NotInitialized:
        return ErrorCode::NotInitialized;
    case gen::ErrorCode::NoCreate:
        return ErrorCode::NoCreate;
    default:
        return ErrorCode::Error;
    }
}

Value fromVal(const gen::Val& v) {
    if (v.__isset.bigint)
        return v.bigint;
    if (v.__isset.integer)
        return std::int64_t(v.integer);
    if (v.__isset.smallint)
        return std::int64_t(v.smallint);
    if (v.__isset.real)
        return v.real;
    if (v.__isset.bval)
        return std::int64_t(v.bval ? 1 : 0);
    if (v.__isset.text)
        return v.text;
    if (v.__isset.blob)
        return Blob{v.blob};
    return std::monostate{};
}

gen::Val toVal(const Value& value) {
    gen::Val v;
    if (const auto* i = std::get_if<std::int64_t>(&value))
        v.__set_bigint(*i);
    else if (const auto* d = std::get_if<double>(&value))
        v.__set_real(*d);
    else if (const auto* s = std::get_if<std::string>(&value))
        v.__set_text(*s);
    else if (const auto* b = std::get_if<Blob>(&value))
        v.__set_blob(b->bytes);
    else
        v.__set_isnull(true);
    return v;
}

std::vector<std::vector<gen::Val>> toRows(const std::vector<Row>& rows) {
    std::vector<std::vector<gen::Val>> out;
    out.reserve(rows.size());
    for (const Row& row : rows) {
        std::vector<gen::Val> vals;
        vals.reserve(row.size());
        for (const Value& v : row)
            vals.push_back(toVal(v));
        out.push_back(std::move(vals));
    }
    return out;
}

QueryResult fromRead(const gen::ReadResult& r) {
    QueryResult out;
    out.isRead = true;
    out.columns = r.columns;
    out.rows.reserve(r.rows.size());
    for (const auto& m : r.rows) {
        Row row;
        row.reserve(r.columns.size());
        for (const std::string& c : r.columns) {
            auto it = m.find(c);
            row.push_back(it == m.end() ? Value{} : fromVal(it->second));
        }
        out.rows.push_back(std::move(row));
    }
    return out;
}

QueryResult fromWrite(const gen::WriteResult& w) {
    QueryResult out;
    out.lastChangeRowid = w.lastChangeRowid;
    out.rowsChanged = w.rowsChanged;
    return out;
}

QueryResult fromResult(const gen::Result& r) {
    if (r.__isset.rdRes)
        return fromRead(r.rdRes);
    if (r.__isset.batchRes) {
        QueryResult out;
        for (const gen::QueryResult& q : r.batchRes)
            out.batch.push_back(q.__isset.rdRes ? fromRead(q.rdRes) : fromWrite(q.wrRes));
        return out;
    }
    return fromWrite(r.wrRes);
}

} // namespace

std::string nativeScramble(const std::string& salt, const std::string& password) {
    unsigned char stage1[SHA_DIGEST_LENGTH];
    unsigned char stage2[SHA_DIGEST_LENGTH];
    unsigned char mix[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), stage1);
    SHA1(stage1, sizeof stage1, stage2);
    std::string input = salt;
    input.append(reinterpret_cast<const char*>(stage2), sizeof stage2);
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), mix);
    std::string out(SHA_DIGEST_LENGTH, '\0');
    for (int i = 0; i < SHA_DIGEST_LENGTH; ++i)
        out[i] = char(stage1[i] ^ mix[i]);
    return out;
}

class Client::Impl {
public:
    std::shared_ptr<apache::thrift::transport::TSSLSocketFactory> sslFactory;
    std::shared_ptr<TTransport> transport;
    std::unique_ptr<gen::ActordbClient> client;
    std::string where;

    // Runs one call; maps what it throws. A broken connection is closed.
    Status run(const std::function<void(gen::ActordbClient&)>& call) {
        if (!client)
            return Status(ErrorCode::IoError, "not connected");
        try {
            call(*client);
            return Status::ok();
        } catch (const gen::InvalidRequestException& e) {
            return Status(errorCodeOf(e.code), e.info);
        } catch (const TTransportException& e) {
            disconnect();
            return Status(ErrorCode::IoError, where + ": " + e.what());
        } catch (const TProtocolException& e) {
            disconnect();
            return Status(ErrorCode::IoError, where + ": bad answer: " + e.what());
        } catch (const TApplicationException& e) {
            return Status(ErrorCode::Error, where + ": " + e.what());
        } catch (const std::exception& e) {
            disconnect();
            return Status(ErrorCode::Internal, where + ": " + e.what());
        }
    }

    void disconnect() {
        client.reset();
        if (transport) {
            try {
                transport->close();
            } catch (const std::exception&) {
            }
        }
        transport.reset();
    }
};

Client::Client() : m_impl(std::make_unique<Impl>()) {}

Client::~Client() {
    close();
}

void Client::close() {
    m_impl->disconnect();
}

bool Client::connected() const {
    return m_impl->client != nullptr;
}

Status Client::connect(const ConnectOptions& options) {
    close();
    m_impl->where = options.host + ":" + std::to_string(options.port);
    try {
        std::shared_ptr<apache::thrift::transport::TSocket> socket;
        if (options.tls) {
            std::shared_ptr<apache::thrift::transport::TSSLSocketFactory> factory;
            if (options.tlsCaFile.empty()) {
                factory = std::make_shared<UncheckedTlsFactory>();
            } else {
                factory = std::make_shared<apache::thrift::transport::TSSLSocketFactory>(
                    apache::thrift::transport::SSLTLS);
                factory->loadTrustedCertificates(options.tlsCaFile.c_str());
                factory->authenticate(true);
            }
            socket = factory->createSocket(options.host, options.port);
            m_impl->sslFactory = std::move(factory);
        } else {
            socket =
                std::make_shared<apache::thrift::transport::TSocket>(options.host, options.port);
        }
        socket->setConnTimeout(static_cast<int>(options.connectTimeout.count()));
        socket->setRecvTimeout(static_cast<int>(options.callTimeout.count()));
        socket->setSendTimeout(static_cast<int>(options.callTimeout.count()));
        std::shared_ptr<TTransport> transport;
        if (options.framed)
            transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
        else
            transport = std::make_shared<apache::thrift::transport::TBufferedTransport>(socket);
        transport->open();
        m_impl->transport = transport;
        m_impl->client =
            std::make_unique<gen::ActordbClient>(std::make_shared<TBinaryProtocol>(transport));
    } catch (const std::exception& e) {
        m_impl->disconnect();
        return Status(ErrorCode::IoError, "cannot connect to " + m_impl->where + ": " + e.what());
    }
    return Status::ok();
}

Result<std::string> Client::protocolVersion() {
    std::string out;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.protocolVersion(out); }));
    return out;
}

Status Client::login(const std::string& user, const std::string& password) {
    gen::LoginResult out;
    return m_impl->run([&](gen::ActordbClient& c) { c.login(out, user, password); });
}

Status Client::loginScrambled(const std::string& user, const std::string& password) {
    std::string salt;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.salt(salt); }));
    gen::LoginResult out;
    const std::string scramble = nativeScramble(salt, password);
    return m_impl->run([&](gen::ActordbClient& c) { c.login(out, user, scramble); });
}

namespace {

template <typename Call> Result<QueryResult> resultOf(Client::Impl& impl, Call&& call) {
    gen::Result out;
    TROUPE_RETURN_IF_ERROR(impl.run([&](gen::ActordbClient& c) { call(c, out); }));
    return fromResult(out);
}

} // namespace

Result<QueryResult> Client::execConfig(const std::string& sql) {
    return resultOf(*m_impl, [&](gen::ActordbClient& c, gen::Result& r) { c.exec_config(r, sql); });
}

Result<QueryResult> Client::execSchema(const std::string& sql) {
    return resultOf(*m_impl, [&](gen::ActordbClient& c, gen::Result& r) { c.exec_schema(r, sql); });
}

Result<QueryResult> Client::execSingle(const std::string& actor, const std::string& type,
                                       const std::string& sql,
                                       const std::vector<std::string>& flags,
                                       const std::vector<Row>& params) {
    return resultOf(*m_impl, [&](gen::ActordbClient& c, gen::Result& r) {
        if (params.empty())
            c.exec_single(r, actor, type, sql, flags);
        else
            c.exec_single_param(r, actor, type, sql, flags, toRows(params));
    });
}

Result<QueryResult> Client::execSingleBatch(const std::string& actor, const std::string& type,
                                            const std::string& sql,
                                            const std::vector<std::string>& flags,
                                            const std::vector<std::vector<Row>>& params) {
    std::vector<std::vector<std::vector<gen::Val>>> vals;
    for (const auto& rows : params)
        vals.push_back(toRows(rows));
    return resultOf(*m_impl, [&](gen::ActordbClient& c, gen::Result& r) {
        c.exec_single_batch_param(r, actor, type, sql, flags, vals);
    });
}

Result<QueryResult> Client::execMulti(const std::vector<std::string>& actors,
                                      const std::string& type, const std::string& sql,
                                      const std::vector<std::string>& flags) {
    return resultOf(*m_impl, [&](gen::ActordbClient& c, gen::Result& r) {
        c.exec_multi(r, actors, type, sql, flags);
    });
}

Result<QueryResult> Client::execAll(const std::string& type, const std::string& sql,
                                    const std::vector<std::string>& flags) {
    return resultOf(
        *m_impl, [&](gen::ActordbClient& c, gen::Result& r) { c.exec_all(r, type, sql, flags); });
}

Result<QueryResult> Client::execSql(const std::string& sql, const std::vector<Row>& params) {
    return resultOf(*m_impl, [&](gen::ActordbClient& c, gen::Result& r) {
        if (params.empty())
            c.exec_sql(r, sql);
        else
            c.exec_sql_param(r, sql, toRows(params));
    });
}

Result<std::vector<std::string>> Client::actorTypes() {
    std::vector<std::string> out;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.actor_types(out); }));
    return out;
}

Result<std::vector<std::string>> Client::actorTables(const std::string& type) {
    std::vector<std::string> out;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.actor_tables(out, type); }));
    return out;
}

Result<std::vector<std::pair<std::string, std::string>>>
Client::actorColumns(const std::string& type, const std::string& table) {
    std::map<std::string, std::string> out;
    TROUPE_RETURN_IF_ERROR(
        m_impl->run([&](gen::ActordbClient& c) { c.actor_columns(out, type, table); }));
    return std::vector<std::pair<std::string, std::string>>(out.begin(), out.end());
}

Result<std::int64_t> Client::uniqid() {
    std::int64_t out = 0;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { out = c.uniqid(); }));
    return out;
}

Result<ClusterInfo> Client::clusterInfo() {
    gen::AdminClusterInfo in;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.admin_cluster_info(in); }));
    ClusterInfo out;
    out.nodeName = in.nodeName;
    out.version = in.version;
    out.uptimeSeconds = in.uptimeSeconds;
    for (const auto& [name, port] : in.ports)
        out.ports[name] = port;
    for (const gen::AdminNode& n : in.nodes)
        out.nodes.emplace_back(n.name, n.group);
    for (const gen::AdminGroup& g : in.groups)
        out.groups.emplace_back(g.name, g.type);
    for (const gen::AdminShard& s : in.shards)
        out.shards.push_back(
            ShardInfo{s.shard, s.hashFrom, s.hashTo, s.leader, s.replicas, s.state});
    return out;
}

Result<ActorPage> Client::listActors(const std::string& type, const std::string& prefix,
                                     const std::string& after, int limit) {
    gen::AdminActorList in;
    TROUPE_RETURN_IF_ERROR(m_impl->run(
        [&](gen::ActordbClient& c) { c.admin_list_actors(in, type, prefix, after, limit); }));
    ActorPage out;
    out.names = std::move(in.names);
    if (in.__isset.nextCursor)
        out.nextCursor = std::move(in.nextCursor);
    return out;
}

Result<ActorInfo> Client::actorInfo(const std::string& type, const std::string& name) {
    gen::AdminActorInfo in;
    TROUPE_RETURN_IF_ERROR(
        m_impl->run([&](gen::ActordbClient& c) { c.admin_actor_info(in, type, name); }));
    ActorInfo out;
    out.type = in.actortype;
    out.name = in.actorname;
    out.actorId = in.actorId;
    out.pages = in.pages;
    out.sizeBytes = in.sizeBytes;
    out.storedBytes = in.storedBytes;
    out.schemaVersion = in.schemaVersion;
    out.typeSchemaVersion = in.typeSchemaVersion;
    out.shard = in.shard;
    return out;
}

Result<SchemaInfo> Client::schemaInfo(const std::string& type) {
    gen::AdminSchema in;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.admin_schema(in, type); }));
    SchemaInfo out;
    out.revision = in.revision;
    for (const gen::AdminActorType& t : in.types) {
        ActorTypeSchema schema;
        schema.name = t.name;
        schema.kv = t.kv;
        schema.version = t.version;
        for (const gen::AdminSchemaVersion& v : t.history)
            schema.history.push_back(SchemaVersion{v.version, v.statements});
        out.types.push_back(std::move(schema));
    }
    return out;
}

Result<std::map<std::string, double>> Client::metrics() {
    std::map<std::string, double> out;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.admin_metrics(out); }));
    return out;
}

Result<VerifyInfo> Client::verify() {
    gen::AdminVerifyResult in;
    TROUPE_RETURN_IF_ERROR(m_impl->run([&](gen::ActordbClient& c) { c.admin_verify(in); }));
    VerifyInfo out;
    out.clean = in.clean;
    out.formatVersion = in.formatVersion;
    out.errorCount = in.errorCount;
    out.errors = in.errors;
    for (const gen::AdminVerifyDb& d : in.dbs)
        out.dbs.push_back(VerifyDbInfo{d.name, d.records, d.errors, d.legacy});
    return out;
}

} // namespace troupe::client
