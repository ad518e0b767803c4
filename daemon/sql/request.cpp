// Running one ActorDB-dialect request (MISSION §2) on this node: segment it into ACTOR blocks,
// check types and rights, then either hand a plain single-actor request to the engine (the
// fast path: batched with the actor's other requests) or run the blocks as one ActorTxn.

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>

#include "core/murmur3.h"
#include "sql/actor_txn.h"
#include "sql/database_impl.h"
#include "sql/request_parts.h"
#include "sql/segmenter.h"
#include "sql/statements.h"
#include "sql/variables.h"

namespace troupe::sql {

namespace {

using Kind = SpecialStatement::Kind;
using TargetKind = ActorTarget::Kind;

constexpr int kMaxAttempts = 20; // restarts after an out-of-order lock found an actor busy

struct ClassifiedBlock {
    ActorTarget target;
    std::vector<SpecialStatement> statements;
    bool kv = false;
    bool catalogOnly = false; // only PRAGMA list/count/exists: answered from the catalog
};

// One actor a block runs in: the physical actor, the name {{curactor}} gives, and for FOR
// blocks the row of the outer result.
struct Unit {
    ActorRef actor;
    std::string curactor;
    std::size_t row = 0;
};

ExecFlags limitsFor(const Database::Impl& db, const Session& session, const AccessConfig& access);

class Runner {
public:
    Runner(Database::Impl& db, const Session& session, std::vector<Value> params)
        : m_db(db), m_session(session), m_params(std::move(params)), m_schema(db.schema()),
          m_access(db.access()), m_limits(limitsFor(db, session, *m_access)) {}

    Result<ExecResult> run(std::vector<Block> blocks);

private:
    Result<std::vector<ClassifiedBlock>> classify(std::vector<Block> blocks);
    Status checkRights(const ClassifiedBlock& block) const;
    Result<ExecResult> runTopLevel(const ClassifiedBlock& block);
    Result<ExecResult> runCatalogBlock(const ClassifiedBlock& block);
    std::optional<Result<ExecResult>> tryFastPath(const ClassifiedBlock& block);
    Result<ExecResult> runTransaction(const std::vector<ClassifiedBlock>& blocks);
    Result<std::vector<Unit>> staticUnits(const ClassifiedBlock& block);
    Result<std::vector<Unit>> forUnits(const ClassifiedBlock& block);
    // SHOW (but tables), PREPARE, PREPARE DELETE: statements about the node, not an actor.
    Result<ExecResult> runNodeStatement(const SpecialStatement& s);
    // Takes an actor found after the ordered locks (FOR, or `*` after an earlier block created
    // it) without waiting: false, noted in `busy`, when another request holds it.
    Result<bool> lockLate(ActorTxn& txn, const ClassifiedBlock& block, const Unit& unit,
                          std::map<ActorRef, bool>& busy);
    Status runBlock(ActorTxn& txn, const ClassifiedBlock& block, const std::vector<Unit>& units,
                    ExecResult& answer, std::map<ActorRef, bool>& busy);
    Result<std::string> substitute(const std::string& sql, const Unit& unit,
                                   const ClassifiedBlock& block);
    Result<Value> resolve(std::string_view body, const Unit& unit, const ClassifiedBlock& block);
    ActorRef physical(const ClassifiedBlock& block, const std::string& name) const;
    // The node itself (no user) or an administrator: admin-only SQL such as dbstat.
    bool isAdmin() const { return m_session.user.empty() || m_access->isAdmin(m_session.user); }

    Database::Impl& m_db;
    const Session& m_session;
    std::vector<Value> m_params;
    std::shared_ptr<const Schema> m_schema;
    std::shared_ptr<const AccessConfig> m_access;
    std::map<std::string, ExecResult> m_named; // {{NAME}} results
    std::map<std::string, std::int64_t> m_uniqids;
    ExecFlags m_limits; // timeLimit and cancel of the request's SQL
};

// The time limit and cancel token of a request's SQL (resources/docs/security.md "time limits"):
// the session's own limit (MySQL's max_execution_time) when it has one, but only an admin (or the
// node itself) may go past the configured one.
ExecFlags limitsFor(const Database::Impl& db, const Session& session, const AccessConfig& access) {
    ExecFlags limits;
    const std::chrono::milliseconds configured = db.options.statementTimeout;
    limits.timeLimit = configured;
    if (session.timeLimit.count() > 0) {
        const bool mayRaise =
            configured.count() == 0 || session.user.empty() || access.isAdmin(session.user);
        limits.timeLimit = mayRaise ? session.timeLimit : std::min(session.timeLimit, configured);
    }
    limits.cancel = session.cancel;
    return limits;
}

// Only SQL for SQLite: no captures, assignments, pragmas of the dialect, SHOW or PREPARE.
bool onlyPlainSql(const ClassifiedBlock& block) {
    return std::all_of(block.statements.begin(), block.statements.end(),
                       [](const SpecialStatement& s) { return s.kind == Kind::Sql; });
}

Status notInitialized() {
    return Status(ErrorCode::NotInitialized,
                  "the node is not initialised: run a USE config script (groups, nodes, a root "
                  "user) first");
}

Result<ExecResult> Runner::run(std::vector<Block> blocks) {
    if (blocks.empty())
        return ExecResult{}; // only comments, or client BEGIN/COMMIT
    if (!m_access->initialized())
        return notInitialized();
    auto classified = classify(std::move(blocks));
    if (!classified)
        return classified.status();
    if (classified->empty())
        return ExecResult{};
    if (classified->front().target.kind == TargetKind::None)
        return runTopLevel(classified->front());
    for (const ClassifiedBlock& b : *classified)
        TROUPE_RETURN_IF_ERROR(checkRights(b));
    if (classified->size() == 1) {
        const ClassifiedBlock& only = classified->front();
        if (only.catalogOnly)
            return runCatalogBlock(only);
        if (auto fast = tryFastPath(only))
            return std::move(*fast);
    }
    for (const ClassifiedBlock& b : *classified) {
        if (b.catalogOnly)
            return Status(ErrorCode::InvalidArgument,
                          "PRAGMA list, count and exists must be the only statements of their "
                          "request");
    }
    return runTransaction(*classified);
}

Result<std::vector<ClassifiedBlock>> Runner::classify(std::vector<Block> blocks) {
    std::vector<ClassifiedBlock> out;
    for (Block& block : blocks) {
        ClassifiedBlock c;
        c.target = std::move(block.target);
        if (c.target.kind != TargetKind::None) {
            const ActorType* type = m_schema->find(c.target.type);
            if (!type)
                return Status(ErrorCode::InvalidType, "unknown actor type '" + c.target.type +
                                                          "' (the schema defines: " +
                                                          joinNames(m_schema->typeNames()) + ")");
            c.kv = type->kv;
        }
        bool catalog = !block.statements.empty();
        for (const std::string& text : block.statements) {
            auto s = classifyStatement(text);
            if (!s)
                return s.status();
            if (s->kind == Kind::Sql && lowerCopy(s->sql.substr(0, 6)) == "vacuum")
                return Status(ErrorCode::NotPermitted,
                              "VACUUM is not permitted in an actor: the server manages storage "
                              "(in \"" +
                                  shorten(s->sql) + "\")");
            catalog = catalog && (s->kind == Kind::PragmaList || s->kind == Kind::PragmaCount ||
                                  s->kind == Kind::PragmaExists);
            c.statements.push_back(std::move(*s));
        }
        c.catalogOnly = catalog && c.target.kind != TargetKind::None;
        out.push_back(std::move(c));
    }
    return out;
}

Status Runner::checkRights(const ClassifiedBlock& block) const {
    if (m_session.user.empty())
        return Status::ok();
    bool write = block.target.create;
    for (const SpecialStatement& s : block.statements) {
        switch (s.kind) {
        case Kind::Sql:
        case Kind::Capture:
            write = write || !isReadOnlyStatement(s.sql);
            break;
        case Kind::PragmaDelete:
        case Kind::PragmaCopy:
        case Kind::Execute:
            write = true;
            break;
        default:
            break;
        }
    }
    return m_access->checkActorAccess(m_session.user, block.target.type, write);
}

ActorRef Runner::physical(const ClassifiedBlock& block, const std::string& name) const {
    if (!block.kv)
        return ActorRef{block.target.type, name};
    return ActorRef{block.target.type, kvShardName(kvShardOf(name, m_db.kvShards()))};
}

// ---- the fast path -------------------------------------------------------------------------

std::optional<Result<ExecResult>> Runner::tryFastPath(const ClassifiedBlock& block) {
    if (block.target.kind != TargetKind::Single)
        return std::nullopt;
    for (const SpecialStatement& s : block.statements)
        if (s.kind != Kind::Sql)
            return std::nullopt;
    Unit unit{physical(block, block.target.names[0]), block.target.names[0], 0};
    std::string sql;
    for (const SpecialStatement& s : block.statements) {
        auto text = substitute(s.sql, unit, block);
        if (!text)
            return Result<ExecResult>(text.status());
        if (!sql.empty())
            sql += ";\n";
        sql += *text;
    }
    ExecFlags flags = m_limits;
    flags.create = block.target.create || block.kv; // KV shards exist once used
    flags.fsync = block.target.fsync;
    flags.safe = block.target.safe;
    flags.spillAbove = m_session.spillAbove;
    flags.admin = isAdmin();
    flags.readOnly =
        std::all_of(block.statements.begin(), block.statements.end(),
                    [](const SpecialStatement& s) { return isReadOnlyStatement(s.sql); });
    auto r = m_db.engine->execute(unit.actor.type, unit.actor.name, sql, m_params, flags);
    if (!r)
        return Result<ExecResult>(r.status().withContext("actor " + block.target.type + "(" +
                                                         block.target.names[0] + ")"));
    return Result<ExecResult>(std::move(*r));
}

// ---- variables -----------------------------------------------------------------------------

Result<std::string> Runner::substitute(const std::string& sql, const Unit& unit,
                                       const ClassifiedBlock& block) {
    if (!hasVariables(sql))
        return sql;
    return substituteVariables(sql,
                               [&](std::string_view body) { return resolve(body, unit, block); });
}

Result<Value> Runner::resolve(std::string_view body, const Unit& unit,
                              const ClassifiedBlock& block) {
    const std::string name = lowerCopy(body);
    if (name == "curactor")
        return Value{unit.curactor};
    if (name == "uniqid" || name.rfind("uniqid.", 0) == 0) {
        if (name != "uniqid") {
            if (auto it = m_uniqids.find(name); it != m_uniqids.end())
                return Value{it->second};
        }
        auto id = m_db.uniqid();
        if (!id)
            return id.status();
        if (name != "uniqid")
            m_uniqids[name] = *id;
        return Value{*id};
    }
    if (auto key = hashArgument(body))
        return Value{std::int64_t(murmur3_32(*key))};
    if (block.target.kind == TargetKind::ForEach) {
        const std::size_t dot = body.find('.');
        if (dot != std::string_view::npos && body.substr(0, dot) == block.target.variable) {
            const ExecResult& outer = m_named[block.target.result];
            const std::string column(body.substr(dot + 1));
            for (std::size_t c = 0; c < outer.columns.size(); ++c) {
                if (outer.columns[c] == column && unit.row < outer.rows.size())
                    return outer.rows[unit.row][c];
            }
            return Status(ErrorCode::InvalidArgument, "{{" + std::string(body) + "}}: result " +
                                                          block.target.result + " has no column " +
                                                          column);
        }
    }
    return Status(ErrorCode::InvalidArgument, "unknown variable {{" + std::string(body) + "}}");
}

// ---- actors of a block ---------------------------------------------------------------------

Result<std::vector<Unit>> Runner::staticUnits(const ClassifiedBlock& block) {
    std::vector<Unit> units;
    const ActorTarget& t = block.target;
    switch (t.kind) {
    case TargetKind::Single:
    case TargetKind::List: {
        std::set<std::string> seen; // type(a,a) runs once in a
        for (const std::string& name : t.names)
            if (seen.insert(name).second)
                units.push_back(Unit{physical(block, name), name, 0});
        return units;
    }
    case TargetKind::All:
    case TargetKind::AllWhere: {
        if (block.kv) {
            for (unsigned i = 0; i < m_db.kvShards(); ++i)
                units.push_back(Unit{ActorRef{t.type, kvShardName(i)}, kvShardName(i), 0});
            return units;
        }
        auto names =
            listActors(*m_db.engine, t.type, t.kind == TargetKind::AllWhere ? t.likePattern : "%");
        if (!names)
            return names.status();
        for (std::string& name : *names)
            units.push_back(Unit{ActorRef{t.type, name}, name, 0});
        return units;
    }
    default:
        return units; // ForEach: known when its result is
    }
}

Result<std::vector<Unit>> Runner::forUnits(const ClassifiedBlock& block) {
    const ActorTarget& t = block.target;
    auto it = m_named.find(t.result);
    if (it == m_named.end())
        return Status(ErrorCode::InvalidArgument, "FOR " + t.variable + "." + t.column + " IN " +
                                                      t.result + ": no result named " + t.result +
                                                      " before this block");
    const ExecResult& outer = it->second;
    std::size_t column = outer.columns.size();
    for (std::size_t c = 0; c < outer.columns.size(); ++c)
        if (outer.columns[c] == t.column)
            column = c;
    if (column == outer.columns.size())
        return Status(ErrorCode::InvalidArgument, "FOR " + t.variable + "." + t.column + " IN " +
                                                      t.result + ": " + t.result +
                                                      " has no column " + t.column);
    std::vector<Unit> units;
    for (std::size_t r = 0; r < outer.rows.size(); ++r) {
        std::string name = valueText(outer.rows[r][column]);
        if (Status bad = checkActorName(name); !bad.isOk())
            return Status(bad.code(), "FOR " + t.variable + "." + t.column + ": row " +
                                          std::to_string(r + 1) + ": " + bad.message());
        units.push_back(Unit{physical(block, name), name, r});
    }
    return units;
}

// ---- the transaction -----------------------------------------------------------------------

Result<ExecResult> Runner::runTransaction(const std::vector<ClassifiedBlock>& blocks) {
    bool forceSync = false;
    for (const ClassifiedBlock& b : blocks)
        forceSync = forceSync || b.target.fsync;
    std::map<ActorRef, bool> extra; // actors found busy out of order: locked in order next time
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        m_named.clear();
        // Every actor known before running, with its create flag, locked in the global order.
        std::map<ActorRef, bool> ordered = extra;
        std::vector<std::vector<Unit>> units;
        for (const ClassifiedBlock& b : blocks) {
            auto u = staticUnits(b);
            if (!u)
                return u.status();
            for (const Unit& unit : *u)
                ordered[unit.actor] = ordered[unit.actor] || b.target.create || b.kv;
            units.push_back(std::move(*u));
        }
        // max_actors_per_request: refused here, before any actor is locked or created.
        ActorTxn txn(m_db.engine->executor(), m_db.options.maxActorsPerRequest);
        txn.setAdmin(isAdmin());
        txn.limitSql(m_limits);
        // Uncontended, every actor is taken in one round trip; if one is busy, in order.
        if (Status all = txn.lockAllNoWait(ordered); all.code() == ErrorCode::Busy) {
            for (const auto& [actor, create] : ordered) {
                if (Status s = txn.lock(actor, create, false); !s.isOk())
                    return s.withContext("actor " + actor.describe());
            }
        } else if (!all.isOk()) {
            return all;
        }
        ExecResult answer;
        std::map<ActorRef, bool> busy; // with the create flag of the block that found it
        bool multi = false;
        Status failed;
        for (std::size_t i = 0; i < blocks.size() && failed.isOk(); ++i) {
            const ClassifiedBlock& b = blocks[i];
            if (b.target.kind == TargetKind::ForEach) {
                auto u = forUnits(b);
                if (!u)
                    return u.status();
                units[i] = std::move(*u);
            } else if ((b.target.kind == TargetKind::All ||
                        b.target.kind == TargetKind::AllWhere) &&
                       !b.kv) {
                // Actors created by earlier blocks of this request belong to `*` too.
                std::set<std::string> names;
                for (const Unit& u : units[i])
                    names.insert(u.curactor);
                const std::string pattern =
                    b.target.kind == TargetKind::AllWhere ? b.target.likePattern : "%";
                for (const ActorRef& held : txn.held())
                    if (held.type == b.target.type && likeMatch(pattern, held.name) &&
                        names.insert(held.name).second)
                        units[i].push_back(Unit{held, held.name, 0});
                std::sort(units[i].begin(), units[i].end(),
                          [](const Unit& x, const Unit& y) { return x.actor < y.actor; });
            }
            multi = b.target.kind != TargetKind::Single;
            failed = runBlock(txn, b, units[i], answer, busy);
        }
        if (!busy.empty()) {
            txn.abort();
            for (const auto& [actor, create] : busy)
                extra[actor] = extra[actor] || create;
            continue;
        }
        if (!failed.isOk())
            return failed; // ~ActorTxn rolls every actor back
        auto outcome = txn.commit(forceSync);
        if (!outcome)
            return outcome.status().withContext("commit");
        answer.wrote = outcome->actorsChanged > 0;
        if (multi) {
            answer.rowsChanged = std::int64_t(outcome->actorsChanged);
            answer.lastInsertRowid = 0;
        }
        return answer;
    }
    return Status(ErrorCode::TooManyAttempts, "the request's actors stayed busy through " +
                                                  std::to_string(kMaxAttempts) + " attempts");
}

Result<bool> Runner::lockLate(ActorTxn& txn, const ClassifiedBlock& block, const Unit& unit,
                              std::map<ActorRef, bool>& busy) {
    if (txn.holds(unit.actor))
        return true;
    const bool create = block.target.create || block.kv;
    Status s = txn.lock(unit.actor, create, true);
    if (s.code() == ErrorCode::Busy) {
        busy[unit.actor] = create;
        return false;
    }
    if (!s.isOk())
        return s.withContext("actor " + unit.actor.describe());
    return true;
}

Status Runner::runBlock(ActorTxn& txn, const ClassifiedBlock& block, const std::vector<Unit>& units,
                        ExecResult& answer, std::map<ActorRef, bool>& busy) {
    const bool single = block.target.kind == TargetKind::Single;
    std::optional<std::string> lastCapture;
    std::set<std::string> capturedHere; // names this block (re)started
    bool assigned = false;
    ExecResult singleAnswer;
    if (!single && onlyPlainSql(block)) {
        // Nothing in the block depends on another actor's answer: every actor runs its
        // statements at the same time, and a multi-actor block without {{NAME}} returns no rows.
        std::vector<ActorTxn::Work> work;
        for (const Unit& unit : units) {
            auto taken = lockLate(txn, block, unit, busy);
            if (!taken || !*taken)
                return taken.status(); // OK when busy: the request restarts
            std::string sql;
            for (const SpecialStatement& s : block.statements) {
                auto text = substitute(s.sql, unit, block);
                if (!text)
                    return text.status();
                if (!sql.empty())
                    sql += ";\n";
                sql += *text;
            }
            work.push_back(ActorTxn::Work{unit.actor, std::move(sql),
                                          block.target.type + "(" + unit.curactor + ")"});
        }
        TROUPE_RETURN_IF_ERROR(txn.runParallel(std::move(work), m_params));
        answer = ExecResult{};
        return Status::ok();
    }
    for (const Unit& unit : units) {
        auto taken = lockLate(txn, block, unit, busy);
        if (!taken || !*taken)
            return taken.status(); // OK when busy: the request restarts
        const std::string where = "actor " + block.target.type + "(" + unit.curactor + ")";
        std::map<std::string, ExecResult> unitNamed; // this actor's own captures
        for (const SpecialStatement& s : block.statements) {
            switch (s.kind) {
            case Kind::Sql:
            case Kind::Capture:
            case Kind::Execute: {
                std::string sql;
                std::vector<Value> params = m_params;
                if (s.kind == Kind::Execute) {
                    auto call = preparedCall(*m_db.prepared(), block.target.type, s);
                    if (!call)
                        return call.status();
                    sql = std::move(call->sql);
                    params = std::move(call->params);
                } else {
                    auto text = substitute(s.sql, unit, block);
                    if (!text)
                        return text.status();
                    sql = std::move(*text);
                }
                auto r = txn.run(unit.actor, std::move(sql), std::move(params));
                if (!r)
                    return r.status().withContext(where);
                if (s.kind == Kind::Capture) {
                    unitNamed[s.name] = *r;
                    ExecResult& store = m_named[s.name];
                    if (capturedHere.insert(s.name).second)
                        store = ExecResult{};
                    appendCapture(store, *r, single ? nullptr : &unit.curactor);
                    lastCapture = s.name;
                }
                mergeResult(singleAnswer, std::move(*r));
                break;
            }
            case Kind::Assign: {
                if (block.target.kind != TargetKind::ForEach || s.variable != block.target.variable)
                    return Status(ErrorCode::InvalidArgument,
                                  "{{" + s.variable + "." + s.column + "=" + s.name + "." +
                                      s.sourceColumn + "}} needs a FOR " + s.variable +
                                      ".col IN ... block");
                auto source = unitNamed.find(s.name);
                if (source == unitNamed.end())
                    return Status(ErrorCode::InvalidArgument,
                                  "{{" + s.variable + "." + s.column + "=" + s.name + "." +
                                      s.sourceColumn + "}}: no result " + s.name +
                                      " captured in this actor before it");
                TROUPE_RETURN_IF_ERROR(assignColumn(m_named[block.target.result], unit.row,
                                                    s.column, source->second, s.sourceColumn));
                assigned = true;
                break;
            }
            case Kind::PragmaDelete:
                if (block.kv)
                    return Status(ErrorCode::NotPermitted,
                                  "PRAGMA delete removes actors; a KV type's keys are rows: "
                                  "DELETE FROM actors WHERE id = ...");
                txn.deleteAtCommit(unit.actor);
                break;
            case Kind::PragmaCopy:
                if (block.kv)
                    return Status(ErrorCode::NotPermitted,
                                  "PRAGMA copy copies actors; a KV type's keys are rows");
                txn.copyAtCommit(unit.actor, s.name);
                break;
            case Kind::Show:
                if (s.name == "tables") {
                    auto r = txn.run(unit.actor, kTablesQuery, {});
                    if (!r)
                        return r.status().withContext(where);
                    mergeResult(singleAnswer, std::move(*r));
                    break;
                }
                [[fallthrough]];
            case Kind::Prepare:
            case Kind::PrepareDelete: {
                auto r = runNodeStatement(s);
                if (!r)
                    return r.status();
                if (s.kind == Kind::Show)
                    mergeResult(singleAnswer, std::move(*r));
                break;
            }
            case Kind::PragmaList:
            case Kind::PragmaCount:
            case Kind::PragmaExists:
                return Status(ErrorCode::InvalidArgument,
                              "PRAGMA list, count and exists must be the only statements of "
                              "their request");
            }
        }
    }
    if (block.target.kind == TargetKind::ForEach && !assigned) {
        // No row to fill: the outer result still gets the columns the block assigns.
        for (const SpecialStatement& s : block.statements) {
            if (s.kind != Kind::Assign)
                continue;
            ExecResult& outer = m_named[block.target.result];
            if (std::find(outer.columns.begin(), outer.columns.end(), s.column) ==
                outer.columns.end())
                outer.columns.push_back(s.column);
            assigned = true;
        }
    }
    if (single)
        answer = std::move(singleAnswer);
    else if (assigned)
        answer = m_named[block.target.result];
    else if (lastCapture)
        answer = m_named[*lastCapture];
    else
        answer = ExecResult{}; // ActorDB: a multi-actor read without {{NAME}} returns no rows
    return Status::ok();
}

// ---- statements about the node -----------------------------------------------------------

Result<ExecResult> Runner::runNodeStatement(const SpecialStatement& s) {
    if (s.kind == Kind::Show) {
        if (s.name == "queries" && !m_session.user.empty()) // other users' SQL
            TROUPE_RETURN_IF_ERROR(m_access->checkAdmin(m_session.user));
        return showResult(m_db, s.name);
    }
    if (!m_session.user.empty())
        TROUPE_RETURN_IF_ERROR(m_access->checkAdmin(m_session.user));
    if (s.kind == Kind::PrepareDelete) {
        TROUPE_RETURN_IF_ERROR(m_db.unprepare(s.name));
        return ExecResult{};
    }
    if (!m_schema->find(s.type))
        return Status(ErrorCode::InvalidType,
                      "PREPARE " + s.name + ": unknown actor type '" + s.type + "'");
    PreparedStatement p;
    p.name = s.name;
    p.type = s.type;
    p.argTypes = s.argTypes;
    p.sql = s.sql;
    TROUPE_RETURN_IF_ERROR(m_db.prepare(std::move(p)));
    ExecResult r;
    r.wrote = true;
    return r;
}

Result<ExecResult> Runner::runTopLevel(const ClassifiedBlock& block) {
    ExecResult answer;
    for (const SpecialStatement& s : block.statements) {
        switch (s.kind) {
        case Kind::Show:
            if (s.name == "tables")
                return Status(ErrorCode::InvalidArgument,
                              "SHOW tables lists an actor's tables: ACTOR type(name); SHOW tables");
            [[fallthrough]];
        case Kind::Prepare:
        case Kind::PrepareDelete: {
            auto r = runNodeStatement(s);
            if (!r)
                return r.status();
            answer = std::move(*r);
            break;
        }
        default:
            return Status(ErrorCode::InvalidArgument,
                          "no actor for \"" + shorten(s.sql.empty() ? s.name : s.sql) +
                              "\": start the request with ACTOR type(name); for example "
                              "ACTOR user(alice) create; " +
                              shorten(s.sql));
        }
    }
    return answer;
}

Result<ExecResult> Runner::runCatalogBlock(const ClassifiedBlock& block) {
    ExecResult answer;
    for (const SpecialStatement& s : block.statements) {
        auto r = catalogPragma(*m_db.engine, block.target, block.kv, s);
        if (!r)
            return r.status();
        answer = std::move(*r);
    }
    return answer;
}

} // namespace

Result<ExecResult> runRequest(Database::Impl& db, const Session& session, std::string_view request,
                              std::vector<Value> params) {
    auto blocks = segment(request, db.options.maxRequestBytes);
    if (!blocks)
        return blocks.status();
    return runSegmented(db, session, request, std::move(*blocks), std::move(params));
}

Result<ExecResult> runSegmented(Database::Impl& db, const Session& session,
                                std::string_view request, std::vector<Block> blocks,
                                std::vector<Value> params) {
    const std::uint64_t id = db.beginQuery(session.user, request);
    Runner runner(db, session, std::move(params));
    Result<ExecResult> r = runner.run(std::move(blocks));
    db.endQuery(id);
    return r;
}

Result<ExecResult> runSingle(Database::Impl& db, const Session& session, std::string_view type,
                             std::string_view name, std::string_view sql, ExecFlags flags,
                             std::vector<Value> params) {
    auto blocks = segment(sql, db.options.maxRequestBytes);
    if (!blocks)
        return blocks.status();
    if (blocks->empty())
        return ExecResult{};
    if (blocks->size() != 1 || blocks->front().target.kind != TargetKind::None)
        return Status(ErrorCode::InvalidArgument,
                      "the SQL of a single-actor call must not name actors itself");
    ActorTarget& t = blocks->front().target;
    TROUPE_RETURN_IF_ERROR(validateActorName(name));
    t.kind = TargetKind::Single;
    t.type = std::string(type);
    t.names = {std::string(name)};
    t.create = flags.create;
    t.fsync = flags.fsync;
    t.safe = flags.safe;
    const std::uint64_t id = db.beginQuery(session.user, sql);
    Runner runner(db, session, std::move(params));
    Result<ExecResult> r = runner.run(std::move(*blocks));
    db.endQuery(id);
    return r;
}

} // namespace troupe::sql
