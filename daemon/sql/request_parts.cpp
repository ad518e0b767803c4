#include "sql/request_parts.h"

#include <algorithm>
#include <cctype>

#include "core/murmur3.h"
#include "storage/catalog.h"

namespace troupe::sql {

unsigned kvShardOf(std::string_view key, unsigned shards) {
    return unsigned((std::uint64_t(murmur3_32(key)) * std::max(1u, shards)) >> 32);
}

std::string kvShardName(unsigned shard) {
    return "shard" + std::to_string(shard);
}

bool likeMatch(std::string_view pattern, std::string_view text) {
    // Iterative matcher with backtracking to the last %.
    std::size_t p = 0, t = 0, starP = std::string_view::npos, starT = 0;
    auto same = [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
    };
    while (t < text.size()) {
        if (p < pattern.size() &&
            (pattern[p] == '_' || (pattern[p] != '%' && same(pattern[p], text[t])))) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '%') {
            starP = p++;
            starT = t;
        } else if (starP != std::string_view::npos) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '%')
        ++p;
    return p == pattern.size();
}

Result<std::vector<std::string>> listActors(Engine& engine, const std::string& type,
                                            const std::string& likePattern) {
    // The literal start of the pattern narrows the catalog scan. LIKE ignores ASCII case, the
    // catalog does not: only a prefix without letters can be used as is.
    std::string prefix;
    for (char c : likePattern) {
        if (c == '%' || c == '_' || std::isalpha(static_cast<unsigned char>(c)))
            break;
        prefix += c;
    }
    std::vector<std::string> out;
    std::string after;
    constexpr std::size_t kPage = 1000;
    for (;;) {
        auto page = engine.list(type, prefix, after, kPage);
        if (!page)
            return page.status();
        for (std::string& name : *page) {
            if (likeMatch(likePattern, name))
                out.push_back(name);
        }
        if (page->size() < kPage)
            break;
        after = page->back();
    }
    return out;
}

void appendCapture(ExecResult& store, const ExecResult& r, const std::string* actor) {
    if (store.columns.empty()) {
        store.columns = r.columns;
        if (actor)
            store.columns.push_back("actor");
    }
    for (const auto& row : r.rows) {
        std::vector<Value> copy = row;
        if (actor)
            copy.push_back(*actor);
        copy.resize(store.columns.size()); // a later actor with other columns: pad or cut
        store.rows.push_back(std::move(copy));
    }
}

void mergeResult(ExecResult& into, ExecResult r) {
    if (!r.columns.empty()) {
        into.columns = std::move(r.columns);
        into.rows = std::move(r.rows);
    }
    if (r.rowsChanged > 0) {
        into.rowsChanged += r.rowsChanged;
        into.lastInsertRowid = r.lastInsertRowid;
    }
    into.wrote = into.wrote || r.wrote;
}

Status assignColumn(ExecResult& outer, std::size_t row, const std::string& column,
                    const ExecResult& source, const std::string& sourceColumn) {
    std::size_t from = source.columns.size();
    for (std::size_t c = 0; c < source.columns.size(); ++c)
        if (source.columns[c] == sourceColumn)
            from = c;
    if (from == source.columns.size() && !source.columns.empty())
        return Status(ErrorCode::InvalidArgument, "result has no column " + sourceColumn);
    Value value;
    if (!source.rows.empty() && from < source.rows[0].size())
        value = source.rows[0][from];
    std::size_t to = outer.columns.size();
    for (std::size_t c = 0; c < outer.columns.size(); ++c)
        if (outer.columns[c] == column)
            to = c;
    if (to == outer.columns.size()) {
        outer.columns.push_back(column);
        for (auto& r : outer.rows)
            r.resize(outer.columns.size());
    }
    if (row < outer.rows.size())
        outer.rows[row][to] = std::move(value);
    return Status::ok();
}

Result<PreparedCall> preparedCall(const std::map<std::string, PreparedStatement>& prepared,
                                  const std::string& type, const SpecialStatement& execute) {
    auto it = prepared.find(execute.name);
    if (it == prepared.end())
        return Status(ErrorCode::NotFound,
                      "no prepared statement named " + execute.name + " (PREPARE it first)");
    const PreparedStatement& p = it->second;
    if (p.type != type)
        return Status(ErrorCode::InvalidType, "prepared statement " + p.name +
                                                  " is for actors of type " + p.type + ", not " +
                                                  type);
    if (execute.args.size() != p.argTypes.size())
        return Status(ErrorCode::InvalidArgument,
                      "EXECUTE " + p.name + " needs " + std::to_string(p.argTypes.size()) +
                          " values, got " + std::to_string(execute.args.size()));
    PreparedCall call;
    call.sql = p.sql;
    for (std::size_t i = 0; i < execute.args.size(); ++i) {
        Value v = execute.args[i];
        const std::string& want = p.argTypes[i];
        bool ok = std::holds_alternative<std::monostate>(v);
        if (want == "int")
            ok = ok || std::holds_alternative<std::int64_t>(v);
        else if (want == "real") {
            if (const auto* n = std::get_if<std::int64_t>(&v))
                v = double(*n);
            ok = ok || std::holds_alternative<double>(v);
        } else if (want == "text")
            ok = ok || std::holds_alternative<std::string>(v);
        else if (want == "blob")
            ok = ok || std::holds_alternative<Blob>(v) || std::holds_alternative<std::string>(v);
        if (!ok)
            return Status(ErrorCode::InvalidArgument, "EXECUTE " + p.name + ": value " +
                                                          std::to_string(i + 1) + " (" +
                                                          sqlLiteral(v) + ") is not " + want);
        call.params.push_back(std::move(v));
    }
    return call;
}

namespace {

ExecResult table(std::vector<std::string> columns) {
    ExecResult r;
    r.columns = std::move(columns);
    return r;
}

} // namespace

Result<ExecResult> showResult(Database::Impl& db, const std::string& what) {
    if (what == "schema") {
        ExecResult r = table({"type", "kind", "statement", "sql"});
        auto schema = db.schema();
        for (const std::string& name : schema->typeNames()) {
            const ActorType* t = schema->find(name);
            for (std::size_t i = 0; i < t->statements.size(); ++i)
                r.rows.push_back({name, std::string(t->kv ? "kv" : "actor"), std::int64_t(i + 1),
                                  t->statements[i]});
        }
        return r;
    }
    if (what == "status") {
        ExecResult r = table({"name", "value"});
        auto count = db.engine->count("");
        const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now() - db.startedAt);
        r.rows.push_back({std::string("node"), db.options.nodeName});
        r.rows.push_back(
            {std::string("initialized"), std::int64_t(db.access()->initialized() ? 1 : 0)});
        r.rows.push_back(
            {std::string("actor_types"), std::int64_t(db.schema()->typeNames().size())});
        r.rows.push_back({std::string("actors"), std::int64_t(count ? *count : 0)});
        r.rows.push_back({std::string("kv_shards"), std::int64_t(db.kvShards())});
        r.rows.push_back(
            {std::string("running_queries"), std::int64_t(db.runningQueries().size())});
        r.rows.push_back({std::string("uptime_seconds"), std::int64_t(uptime.count())});
        return r;
    }
    if (what == "queries") {
        ExecResult r = table({"id", "user", "seconds", "query"});
        const auto now = std::chrono::steady_clock::now();
        for (const auto& [id, q] : db.runningQueries()) {
            const double seconds = std::chrono::duration<double>(now - q.started).count();
            r.rows.push_back({std::int64_t(id), q.user, seconds, q.text});
        }
        return r;
    }
    if (what == "shards") {
        ExecResult r = table({"shard", "hash_from", "hash_to", "node", "role"});
        const unsigned n = db.kvShards();
        for (unsigned i = 0; i < n; ++i) {
            const std::uint64_t from = (std::uint64_t(i) << 32) / n;
            const std::uint64_t to = ((std::uint64_t(i + 1) << 32) / n) - 1;
            r.rows.push_back({std::int64_t(i), std::int64_t(from), std::int64_t(to),
                              db.options.nodeName, std::string("leader")});
        }
        return r;
    }
    return Status(ErrorCode::InvalidArgument, "unknown SHOW " + what);
}

Result<ExecResult> catalogPragma(Engine& engine, const ActorTarget& target, bool kv,
                                 const SpecialStatement& pragma) {
    using Kind = SpecialStatement::Kind;
    using TargetKind = ActorTarget::Kind;
    if (kv)
        return Status(ErrorCode::InvalidArgument,
                      "PRAGMA list, count and exists work on actors; a KV type's keys are rows: "
                      "ACTOR " +
                          target.type + "(*); {{R}}SELECT id FROM actors");
    if (pragma.kind == Kind::PragmaExists) {
        if (target.kind != TargetKind::Single && target.kind != TargetKind::List)
            return Status(ErrorCode::InvalidArgument,
                          "PRAGMA exists needs named actors: ACTOR type(name); PRAGMA exists");
        ExecResult r =
            table(target.kind == TargetKind::Single ? std::vector<std::string>{"exists"}
                                                    : std::vector<std::string>{"actor", "exists"});
        for (const std::string& name : target.names) {
            auto found = engine.exists(target.type, name);
            if (!found)
                return found.status();
            if (target.kind == TargetKind::Single)
                r.rows.push_back({std::int64_t(*found ? 1 : 0)});
            else
                r.rows.push_back({name, std::int64_t(*found ? 1 : 0)});
        }
        return r;
    }
    if (target.kind != TargetKind::All && target.kind != TargetKind::AllWhere)
        return Status(ErrorCode::InvalidArgument,
                      std::string("PRAGMA ") +
                          (pragma.kind == Kind::PragmaList ? "list" : "count") +
                          " works on all actors of a type: ACTOR " + target.type + "(*)");
    if (pragma.kind == Kind::PragmaCount && target.kind == TargetKind::All) {
        auto n = engine.count(target.type);
        if (!n)
            return n.status();
        ExecResult r = table({"count"});
        r.rows.push_back({std::int64_t(*n)});
        return r;
    }
    auto names = listActors(engine, target.type,
                            target.kind == TargetKind::AllWhere ? target.likePattern : "%");
    if (!names)
        return names.status();
    if (pragma.kind == Kind::PragmaCount) {
        ExecResult r = table({"count"});
        r.rows.push_back({std::int64_t(names->size())});
        return r;
    }
    ExecResult r = table({"actor"});
    const std::size_t offset = std::size_t(pragma.offset);
    for (std::size_t i = offset; i < names->size(); ++i) {
        if (pragma.limit >= 0 && r.rows.size() >= std::size_t(pragma.limit))
            break;
        r.rows.push_back({(*names)[i]});
    }
    return r;
}

std::string joinNames(const std::vector<std::string>& names) {
    if (names.empty())
        return "no types yet";
    std::string out;
    for (const std::string& n : names) {
        if (!out.empty())
            out += ", ";
        out += n;
    }
    return out;
}

std::string lowerCopy(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string shorten(std::string_view text) {
    if (text.size() <= 80)
        return std::string(text);
    return std::string(text.substr(0, 77)) + "...";
}

Status validateActorName(std::string_view name) {
    TROUPE_RETURN_IF_ERROR(checkActorName(name)); // empty, control characters
    if (name.size() > storage::kMaxNameLength)
        return Status(ErrorCode::InvalidActorName, "actor name is longer than " +
                                                       std::to_string(storage::kMaxNameLength) +
                                                       " bytes");
    return Status::ok();
}

} // namespace troupe::sql
