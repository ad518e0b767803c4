// Database: the node's query facade (database.h) — state, administration and persistence.
// Requests themselves run in request.cpp.

#include "sql/database.h"

#include "core/bytes.h"
#include "core/log.h"
#include "sql/audit.h"
#include "sql/database_impl.h"
#include "sql/executor.h"
#include "sql/segmenter.h"

namespace troupe::sql {

namespace {

void putString(std::string& out, std::string_view s) {
    putBigEndian32(out, std::uint32_t(s.size()));
    out.append(s);
}

std::string readString(ByteReader& r) {
    const std::uint32_t n = r.u32();
    return std::string(r.bytes(n));
}

// "sql/prepared": u8 version (1) | u32 count | per statement: str name, str type, str sql,
// u32 argCount, str argType...   (str = u32 length + bytes)
std::string encodePrepared(const std::map<std::string, PreparedStatement>& all) {
    std::string out;
    out.push_back(1);
    putBigEndian32(out, std::uint32_t(all.size()));
    for (const auto& [name, p] : all) {
        putString(out, p.name);
        putString(out, p.type);
        putString(out, p.sql);
        putBigEndian32(out, std::uint32_t(p.argTypes.size()));
        for (const std::string& t : p.argTypes)
            putString(out, t);
    }
    return out;
}

Result<std::map<std::string, PreparedStatement>> decodePrepared(std::string_view bytes) {
    ByteReader r(bytes);
    std::map<std::string, PreparedStatement> all;
    if (r.u8() != 1 || !r.ok())
        return Status(ErrorCode::Corruption, "prepared statements: unknown version");
    const std::uint32_t count = r.u32();
    for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
        PreparedStatement p;
        p.name = readString(r);
        p.type = readString(r);
        p.sql = readString(r);
        const std::uint32_t args = r.u32();
        for (std::uint32_t a = 0; a < args && r.ok(); ++a)
            p.argTypes.push_back(readString(r));
        all[p.name] = std::move(p);
    }
    if (!r.ok() || !r.atEnd())
        return Status(ErrorCode::Corruption, "prepared statements: truncated record");
    return all;
}

std::string encodeU64(std::uint64_t v) {
    std::string out;
    putBigEndian64(out, v);
    return out;
}

// The mode lines of an init file: "USE config", "use schema;", ...
std::optional<std::string> useLine(std::string_view line) {
    std::string l;
    for (char c : line)
        l += char(std::tolower(static_cast<unsigned char>(c)));
    while (!l.empty() && (l.back() == ';' || std::isspace(static_cast<unsigned char>(l.back()))))
        l.pop_back();
    std::size_t b = l.find_first_not_of(" \t");
    if (b == std::string::npos)
        return std::nullopt;
    l = l.substr(b);
    for (const char* mode : {"config", "schema", "actordb"}) {
        if (l == std::string("use ") + mode)
            return std::string(mode);
    }
    return std::nullopt;
}

} // namespace

// ---- Impl: snapshots and administration --------------------------------------------------

std::shared_ptr<const Schema> Database::Impl::schema() const {
    std::lock_guard lock(m_mutex);
    return m_schema;
}

std::shared_ptr<const AccessConfig> Database::Impl::access() const {
    std::lock_guard lock(m_mutex);
    return m_access;
}

std::shared_ptr<const std::map<std::string, PreparedStatement>> Database::Impl::prepared() const {
    std::lock_guard lock(m_mutex);
    return m_prepared;
}

namespace {

// Reads meta record `key` and decodes it into `out`; an absent record leaves `out` as it is.
template <typename T, typename Decode>
Status loadRecord(Engine& engine, const char* key, const char* what, Decode decode,
                  std::shared_ptr<const T>& out) {
    auto bytes = engine.readMeta(key);
    if (!bytes)
        return bytes.status().code() == ErrorCode::NotFound ? Status::ok() : bytes.status();
    auto decoded = decode(*bytes);
    if (!decoded)
        return decoded.status().withContext(what);
    out = std::make_shared<const T>(std::move(*decoded));
    return Status::ok();
}

} // namespace

Status Database::Impl::load() {
    TROUPE_RETURN_IF_ERROR(
        loadRecord(*engine, kMetaSchema, "stored schema", decodeSchema, m_schema));
    TROUPE_RETURN_IF_ERROR(
        loadRecord(*engine, kMetaAccess, "stored users and nodes", decodeAccessConfig, m_access));
    TROUPE_RETURN_IF_ERROR(loadRecord(*engine, kMetaPrepared, "stored prepared statements",
                                      decodePrepared, m_prepared));
    if (auto bytes = engine->readMeta(kMetaUniqid)) {
        if (bytes->size() != 8)
            return Status(ErrorCode::Corruption, "stored uniqid lease has a bad size");
        // Everything below the persisted lease end may have been handed out: start above it.
        m_leaseEnd = std::int64_t(getBigEndian64(bytes->data()));
        m_nextId = m_leaseEnd;
    } else if (bytes.status().code() != ErrorCode::NotFound) {
        return bytes.status();
    }
    if (auto bytes = engine->readMeta(kMetaShards)) {
        if (bytes->size() != 8)
            return Status(ErrorCode::Corruption, "stored KV shard count has a bad size");
        m_kvShards = unsigned(getBigEndian64(bytes->data()));
    } else if (bytes.status().code() == ErrorCode::NotFound) {
        m_kvShards = std::max(1u, options.kvShards);
    } else {
        return bytes.status();
    }
    return Status::ok();
}

Result<ExecResult> Database::Impl::applySchema(std::string_view script) {
    std::lock_guard admin(m_adminMutex);
    auto change = applySchemaScript(*schema(), script);
    if (!change)
        return change.status();
    ExecResult result;
    if (change->changed.empty())
        return result;
    for (const ChangedType& t : change->changed)
        result.rowsChanged += std::int64_t(change->schema.version(t.type) - t.firstNewStatement);
    TROUPE_RETURN_IF_ERROR(engine->writeMeta(
        {storage::MetaOp{storage::MetaOp::Kind::Put, kMetaSchema, encodeSchema(change->schema)}}));
    auto published = std::make_shared<const Schema>(std::move(change->schema));
    {
        std::lock_guard lock(m_mutex);
        m_schema = std::move(published);
    }
    result.wrote = true;
    return result;
}

Result<ExecResult> Database::Impl::applyConfig(std::string_view script) {
    std::lock_guard admin(m_adminMutex);
    const bool wasInitialized = access()->initialized();
    auto outcome = applyConfigScript(*access(), script, options.nodeName);
    if (!outcome)
        return outcome.status();
    if (outcome->changed) {
        std::vector<storage::MetaOp> ops;
        ops.push_back(
            {storage::MetaOp::Kind::Put, kMetaAccess, encodeAccessConfig(outcome->config)});
        if (!wasInitialized) // KV routing is fixed from the init on
            ops.push_back({storage::MetaOp::Kind::Put, kMetaShards, encodeU64(m_kvShards)});
        TROUPE_RETURN_IF_ERROR(engine->writeMeta(std::move(ops)));
        auto published = std::make_shared<const AccessConfig>(std::move(outcome->config));
        std::lock_guard lock(m_mutex);
        m_access = std::move(published);
        outcome->result.wrote = true;
    }
    return outcome->result;
}

Status Database::Impl::prepare(PreparedStatement statement) {
    std::lock_guard admin(m_adminMutex);
    auto next = std::make_shared<std::map<std::string, PreparedStatement>>(*prepared());
    const std::string name = statement.name;
    if (next->count(name))
        return Status(ErrorCode::Exists, "a prepared statement named " + name +
                                             " exists; PREPARE DELETE " + name + " first");
    (*next)[name] = std::move(statement);
    TROUPE_RETURN_IF_ERROR(engine->writeMeta(
        {storage::MetaOp{storage::MetaOp::Kind::Put, kMetaPrepared, encodePrepared(*next)}}));
    std::lock_guard lock(m_mutex);
    m_prepared = std::move(next);
    return Status::ok();
}

Status Database::Impl::unprepare(const std::string& name) {
    std::lock_guard admin(m_adminMutex);
    auto next = std::make_shared<std::map<std::string, PreparedStatement>>(*prepared());
    if (next->erase(name) == 0)
        return Status(ErrorCode::NotFound, "no prepared statement named " + name);
    TROUPE_RETURN_IF_ERROR(engine->writeMeta(
        {storage::MetaOp{storage::MetaOp::Kind::Put, kMetaPrepared, encodePrepared(*next)}}));
    std::lock_guard lock(m_mutex);
    m_prepared = std::move(next);
    return Status::ok();
}

Result<std::int64_t> Database::Impl::uniqid() {
    // Ids are leased in blocks: the end of the block is durable before any id of it is handed
    // out, so a restart (which resumes at the persisted end) never repeats one.
    constexpr std::int64_t kLease = 1000;
    std::lock_guard lock(m_idMutex);
    if (m_nextId >= m_leaseEnd) {
        const std::int64_t end = m_nextId + kLease;
        TROUPE_RETURN_IF_ERROR(engine->writeMeta({storage::MetaOp{
            storage::MetaOp::Kind::Put, kMetaUniqid, encodeU64(std::uint64_t(end))}}));
        m_leaseEnd = end;
    }
    return m_nextId++;
}

std::uint64_t Database::Impl::beginQuery(const std::string& user, std::string_view text) {
    std::lock_guard lock(m_queriesMutex);
    const std::uint64_t id = ++m_nextQuery;
    m_running[id] =
        RunningQuery{user, std::string(text.substr(0, 200)), std::chrono::steady_clock::now()};
    return id;
}

void Database::Impl::endQuery(std::uint64_t id) {
    std::lock_guard lock(m_queriesMutex);
    m_running.erase(id);
}

std::vector<std::pair<std::uint64_t, RunningQuery>> Database::Impl::runningQueries() const {
    std::lock_guard lock(m_queriesMutex);
    return {m_running.begin(), m_running.end()};
}

// ---- Database ----------------------------------------------------------------------------

Database::Database(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Database::~Database() {
    shutdown();
}

Result<std::unique_ptr<Database>> Database::open(const DatabaseOptions& options) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    EngineOptions engineOptions = options.engine;
    Impl* raw = impl.get();
    engineOptions.migrations = [raw](const std::string& type, std::uint32_t from) {
        Migration m;
        auto schema = raw->schema();
        m.version = schema->version(type);
        if (m.version > from)
            m.statements = schema->migration(type, from);
        return m;
    };
    auto engine = Engine::open(engineOptions);
    if (!engine)
        return engine.status();
    impl->engine = std::move(*engine);
    TROUPE_RETURN_IF_ERROR(impl->load());
    auto schema = impl->schema();
    log::get("sql")->info("{} actor types, {}", schema->typeNames().size(),
                          impl->access()->initialized() ? "initialised"
                                                        : "not initialised (waiting for init)");
    return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Result<ExecResult> Database::query(const Session& session, std::string_view request,
                                   std::vector<Value> params) {
    return runRequest(*m_impl, session, request, std::move(params));
}

Result<ExecResult> Database::query(const Session& session, std::string_view request,
                                   std::vector<Block> blocks, std::vector<Value> params) {
    return runSegmented(*m_impl, session, request, std::move(blocks), std::move(params));
}

Result<ExecResult> Database::querySingle(const Session& session, std::string_view type,
                                         std::string_view name, std::string_view sql,
                                         ExecFlags flags, std::vector<Value> params) {
    return runSingle(*m_impl, session, type, name, sql, flags, std::move(params));
}

// Records a config or schema script's outcome in the audit log (audit.h): failures, and
// successes that changed something.
static Result<ExecResult> audited(const DatabaseOptions& options, const Session& session,
                                  std::string_view action, std::string_view script,
                                  Result<ExecResult> result) {
    if (options.security.audit && (!result || result->wrote))
        options.security.audit->record(session, action, redactPasswords(script), result.status());
    return result;
}

Result<ExecResult> Database::config(const Session& session, std::string_view script) {
    auto run = [&]() -> Result<ExecResult> {
        auto access = m_impl->access();
        if (access->initialized() && !session.user.empty())
            TROUPE_RETURN_IF_ERROR(access->checkAdmin(session.user));
        return m_impl->applyConfig(script);
    };
    return audited(m_impl->options, session, "config", script, run());
}

Result<ExecResult> Database::schema(const Session& session, std::string_view script) {
    auto run = [&]() -> Result<ExecResult> {
        auto access = m_impl->access();
        if (!access->initialized())
            return Status(ErrorCode::NotInitialized,
                          "the node is not initialised: run a USE config script first");
        if (!session.user.empty())
            TROUPE_RETURN_IF_ERROR(access->checkAdmin(session.user));
        return m_impl->applySchema(script);
    };
    return audited(m_impl->options, session, "schema", script, run());
}

Result<ExecResult> Database::script(const Session& session, std::string_view text) {
    std::string mode = "actordb";
    std::string section;
    Result<ExecResult> last = ExecResult{};
    auto flush = [&]() -> Status {
        if (section.find_first_not_of(" \t\r\n") == std::string::npos) {
            section.clear();
            return Status::ok();
        }
        if (mode == "config")
            last = config(session, section);
        else if (mode == "schema")
            last = schema(session, section);
        else
            last = query(session, section);
        section.clear();
        return last.status();
    };
    std::size_t lineNo = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        ++lineNo;
        pos = end + 1;
        if (auto newMode = useLine(line)) {
            if (Status s = flush(); !s.isOk())
                return s.withContext("section before line " + std::to_string(lineNo));
            mode = *newMode;
            continue;
        }
        section.append(line);
        section.push_back('\n');
        if (end == text.size())
            break;
    }
    if (Status s = flush(); !s.isOk())
        return s.withContext("last section");
    return last;
}

bool Database::initialized() const {
    return m_impl->access()->initialized();
}

Status Database::authenticate(std::string_view user, std::string_view password) const {
    auto access = m_impl->access();
    const UserRecord* record = access->findUser(user);
    if (!record || !verifyPassword(*record, password))
        return Status(ErrorCode::NotLoggedIn, "wrong user name or password");
    return Status::ok();
}

Status Database::authenticateNative(std::string_view user, std::string_view salt,
                                    std::string_view scramble) const {
    auto access = m_impl->access();
    const UserRecord* record = access->findUser(user);
    if (!record || !verifyNativeScramble(*record, salt, scramble))
        return Status(ErrorCode::NotLoggedIn, "wrong user name or password");
    return Status::ok();
}

std::vector<std::string> Database::actorTypes() const {
    return m_impl->schema()->typeNames();
}

Result<std::vector<std::string>> Database::actorTables(std::string_view type) const {
    return tablesOf(*m_impl->schema(), type);
}

Result<std::vector<ColumnDescription>> Database::actorColumns(std::string_view type,
                                                              std::string_view table) const {
    auto columns = columnsOf(*m_impl->schema(), type, table);
    if (!columns)
        return columns.status();
    std::vector<ColumnDescription> out;
    for (const ColumnInfo& c : *columns)
        out.push_back(ColumnDescription{c.name, c.declType, c.primaryKey, c.notNull});
    return out;
}

Result<std::int64_t> Database::uniqid() {
    if (!initialized())
        return Status(ErrorCode::NotInitialized,
                      "the node is not initialised: run a USE config script first");
    return m_impl->uniqid();
}

std::shared_ptr<const Schema> Database::currentSchema() const {
    return m_impl->schema();
}

std::shared_ptr<const AccessConfig> Database::currentAccess() const {
    return m_impl->access();
}

const DatabaseOptions& Database::options() const {
    return m_impl->options;
}

Engine& Database::engine() {
    return *m_impl->engine;
}

ProcessList& Database::processes() {
    return m_impl->processes;
}

void Database::interruptAll() {
    m_impl->processes.cancelAll(CancelToken::Reason::ShuttingDown);
    if (m_impl->engine)
        m_impl->engine->executor().interruptAll();
}

void Database::shutdown() {
    if (m_impl && m_impl->engine)
        m_impl->engine->shutdown();
}

} // namespace troupe::sql
