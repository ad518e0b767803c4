// The admin_* methods of ActordbHandler (handler.h): TroupeDB's extensions of the Actordb
// service for the console and the shell. Each one checks admin rights first, then reads the
// node's state through the query facade (SHOW shards, the schema and access snapshots, the
// catalog) or storage inspection (sql/actor_inspect.h, storage/verify.h); none of them changes
// anything.

#include <algorithm>

#include "core/log.h"
#include "sql/access.h"
#include "sql/actor_inspect.h"
#include "sql/schema.h"
#include "storage/verify.h"
#include "thrift/convert.h"
#include "thrift/handler.h"

namespace troupe::thrift {

namespace {

constexpr std::int32_t kDefaultListLimit = 100;
constexpr std::int32_t kMaxListLimit = 1000;

[[noreturn]] void fail(const Status& status) {
    throw invalidRequest(status);
}

std::int64_t intOf(const sql::Value& v) {
    const auto* i = std::get_if<std::int64_t>(&v);
    return i ? *i : 0;
}

std::string textOf(const sql::Value& v) {
    const auto* s = std::get_if<std::string>(&v);
    return s ? *s : std::string();
}

} // namespace

void ActordbHandler::requireAdmin() const {
    const std::string& user = requireLogin();
    if (Status s = m_db.currentAccess()->checkAdmin(user); !s)
        fail(s);
}

std::vector<gen::AdminShard> ActordbHandler::shards() const {
    // The node session: the caller's rights were checked by requireAdmin().
    auto shown = m_db.query(sql::Session{}, "SHOW shards");
    if (!shown)
        fail(shown.status());
    std::vector<gen::AdminShard> out;
    for (const auto& row : shown->rows) {
        if (row.size() < 5)
            fail(Status(ErrorCode::Internal, "SHOW shards returned a short row"));
        gen::AdminShard s;
        s.shard = std::int32_t(intOf(row[0]));
        s.hashFrom = intOf(row[1]);
        s.hashTo = intOf(row[2]);
        s.leader = textOf(row[3]);
        s.replicas = {s.leader}; // single node: the cluster work (issue 7) adds the others
        s.state = textOf(row[4]);
        out.push_back(std::move(s));
    }
    return out;
}

void ActordbHandler::admin_cluster_info(gen::AdminClusterInfo& out) {
    requireAdmin();
    out.nodeName = m_db.options().nodeName;
    out.version = m_facts.version;
    out.uptimeSeconds = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - m_facts.startedAt)
                            .count();
    for (const auto& [name, port] : m_facts.ports)
        out.ports[name] = port;
    const auto access = m_db.currentAccess();
    for (const sql::NodeRecord& n : access->nodes()) {
        gen::AdminNode node;
        node.name = n.name;
        node.group = n.group;
        out.nodes.push_back(std::move(node));
    }
    for (const sql::GroupRecord& g : access->groups()) {
        gen::AdminGroup group;
        group.name = g.name;
        group.type = g.type;
        out.groups.push_back(std::move(group));
    }
    out.shards = shards();
}

void ActordbHandler::admin_list_actors(gen::AdminActorList& out, const std::string& actortype,
                                       const std::string& prefix, const std::string& after,
                                       std::int32_t limit) {
    requireAdmin();
    if (!m_db.currentSchema()->find(actortype))
        fail(Status(ErrorCode::InvalidType, "no actor type '" + actortype + "'"));
    const std::int32_t n = limit <= 0 ? kDefaultListLimit : std::min(limit, kMaxListLimit);
    // One more than asked: whether it exists says if there is a next page.
    auto names = m_db.engine().list(actortype, prefix, after, std::size_t(n) + 1);
    if (!names)
        fail(names.status());
    const bool more = names->size() > std::size_t(n);
    if (more)
        names->resize(std::size_t(n));
    out.names = std::move(*names);
    if (more)
        out.__set_nextCursor(out.names.back());
}

void ActordbHandler::admin_actor_info(gen::AdminActorInfo& out, const std::string& actortype,
                                      const std::string& actorname) {
    requireAdmin();
    const auto schema = m_db.currentSchema();
    if (!schema->find(actortype))
        fail(Status(ErrorCode::InvalidType, "no actor type '" + actortype + "'"));
    if (actorname.empty())
        fail(Status(ErrorCode::EmptyActorName, "the actor name is empty"));
    auto info = sql::inspectActor(m_db.engine(), actortype, actorname);
    if (!info && info.status().code() == ErrorCode::NotFound)
        fail(Status(ErrorCode::NoCreate,
                    "actor " + actortype + "(" + actorname + ") does not exist"));
    if (!info)
        fail(info.status());
    const std::vector<gen::AdminShard> all = shards();
    out.actortype = actortype;
    out.actorname = actorname;
    out.actorId = std::int64_t(info->id);
    out.pages = info->pages;
    out.sizeBytes = std::int64_t(info->fileBytes);
    out.storedBytes = std::int64_t(info->storedBytes);
    out.schemaVersion = std::int32_t(info->schemaVersion);
    out.typeSchemaVersion = std::int32_t(schema->version(actortype));
    out.shard =
        std::int32_t(sql::shardOfHash(info->hash, unsigned(std::max<std::size_t>(1, all.size()))));
}

void ActordbHandler::admin_schema(gen::AdminSchema& out, const std::string& actortype) {
    requireAdmin();
    const auto schema = m_db.currentSchema();
    out.revision = std::int64_t(schema->revision());
    std::vector<std::string> names = schema->typeNames();
    if (!actortype.empty()) {
        if (!schema->find(actortype))
            fail(Status(ErrorCode::InvalidType, "no actor type '" + actortype + "'"));
        names = {actortype};
    }
    for (const std::string& name : names) {
        const sql::ActorType* t = schema->find(name);
        gen::AdminActorType type;
        type.name = name;
        type.kv = t->kv;
        type.version = std::int32_t(t->statements.size());
        // A type's version is its number of statements: version v adds statement v.
        for (std::size_t i = 0; i < t->statements.size(); ++i) {
            gen::AdminSchemaVersion v;
            v.version = std::int32_t(i + 1);
            v.statements = {t->statements[i]};
            type.history.push_back(std::move(v));
        }
        out.types.push_back(std::move(type));
    }
}

void ActordbHandler::admin_metrics(std::map<std::string, double>& out) {
    requireAdmin();
    const MetricsRegistry& registry =
        m_facts.metrics ? *m_facts.metrics : MetricsRegistry::global();
    out = parsePrometheusText(registry.renderPrometheus());
}

void ActordbHandler::admin_verify(gen::AdminVerifyResult& out) {
    requireAdmin();
    storage::Environment& env = m_db.engine().environment();
    auto txn = env.beginRead();
    if (!txn)
        fail(txn.status());
    const storage::VerifyReport report = storage::verifyRecords(env, txn->get());
    txn->reset();
    log::get("storage")->info("admin_verify by {}: {} records checked, {} errors", requireLogin(),
                              report.records(), report.errorCount());
    out.clean = report.clean();
    out.formatVersion = std::int32_t(report.formatVersion);
    out.errorCount = std::int64_t(report.errorCount());
    out.errors = report.errors;
    for (const storage::VerifyDbStats& d : report.dbs) {
        gen::AdminVerifyDb db;
        db.name = d.name;
        db.records = std::int64_t(d.records);
        db.errors = std::int64_t(d.errors);
        db.legacy = std::int64_t(d.legacy);
        out.dbs.push_back(std::move(db));
    }
}

} // namespace troupe::thrift
