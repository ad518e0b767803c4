#include "sql/schema.h"

#include <algorithm>
#include <utility>

#include "core/bytes.h"
#include "sql/schema_internal.h"

// The Schema value, applySchemaScript() and the persistent format. Script parsing is in
// schema_script.cpp, scratch-database validation and introspection in schema_scratch.cpp.

namespace troupe::sql {
namespace {

constexpr std::uint8_t kFormatVersion = 1;
constexpr std::uint8_t kFlagKv = 0x01;

} // namespace

using schema_detail::excerpt;
using schema_detail::isTypeName;
using schema_detail::lineError;
using schema_detail::mergeSections;
using schema_detail::newStatements;
using schema_detail::parseScript;
using schema_detail::ScriptStatement;
using schema_detail::validateType;

// ---- Schema --------------------------------------------------------------------------------

const ActorType* Schema::find(std::string_view type) const {
    auto it = m_types.find(type);
    return it == m_types.end() ? nullptr : it->second.get();
}

std::vector<std::string> Schema::typeNames() const {
    std::vector<std::string> names;
    names.reserve(m_types.size());
    for (const auto& entry : m_types)
        names.push_back(entry.first);
    return names;
}

std::uint32_t Schema::version(std::string_view type) const {
    const ActorType* found = find(type);
    return found ? std::uint32_t(found->statements.size()) : 0;
}

std::vector<std::string> Schema::migration(std::string_view type, std::uint32_t fromVersion) const {
    const ActorType* found = find(type);
    if (!found || fromVersion >= found->statements.size())
        return {};
    return std::vector<std::string>(found->statements.begin() + fromVersion,
                                    found->statements.end());
}

bool Schema::operator==(const Schema& other) const {
    return m_revision == other.m_revision &&
           std::equal(m_types.begin(), m_types.end(), other.m_types.begin(), other.m_types.end(),
                      [](const auto& a, const auto& b) { return *a.second == *b.second; });
}

Result<SchemaChange> applySchemaScript(const Schema& current, std::string_view script) {
    auto sections = parseScript(script);
    if (!sections)
        return sections.status();
    auto merged = mergeSections(std::move(*sections));
    if (!merged)
        return merged.status();

    Schema::Types types = current.m_types;
    std::vector<ChangedType> changed;
    for (const auto& [name, section] : *merged) {
        const ActorType* saved = current.find(name);
        const ActorType empty{name, section.kv, {}};
        std::vector<ScriptStatement> fresh;
        if (saved) {
            if (saved->kv != section.kv)
                return lineError(ErrorCode::InvalidArgument, section.line,
                                 "cannot change whether existing type " + name + " is KV",
                                 "ACTOR " + name + (section.kv ? " KV" : ""));
            auto added = newStatements(*saved, section);
            if (!added)
                return added.status();
            fresh = std::move(*added);
        } else if (section.statements.empty()) {
            return lineError(ErrorCode::InvalidArgument, section.line,
                             "new type " + name + " has no statements", "ACTOR " + name);
        } else {
            fresh = section.statements;
        }
        if (fresh.empty())
            continue;
        TROUPE_RETURN_IF_ERROR(validateType(saved ? *saved : empty, section, fresh));
        auto type = std::make_shared<ActorType>(saved ? *saved : empty);
        changed.push_back(ChangedType{name, std::uint32_t(type->statements.size())});
        for (ScriptStatement& stmt : fresh)
            type->statements.push_back(std::move(stmt.text));
        types[name] = std::move(type);
    }
    if (changed.empty())
        return SchemaChange{current, {}};
    return SchemaChange{Schema(std::move(types), current.m_revision + 1), std::move(changed)};
}

// ---- Persistence ---------------------------------------------------------------------------

std::string encodeSchema(const Schema& schema) {
    std::string out;
    out.push_back(char(kFormatVersion));
    putBigEndian64(out, schema.revision());
    const std::vector<std::string> names = schema.typeNames();
    putBigEndian32(out, std::uint32_t(names.size()));
    for (const std::string& name : names) {
        const ActorType& type = *schema.find(name);
        putBigEndian32(out, std::uint32_t(name.size()));
        out += name;
        out.push_back(char(type.kv ? kFlagKv : 0));
        putBigEndian32(out, std::uint32_t(type.statements.size()));
        for (const std::string& stmt : type.statements) {
            putBigEndian32(out, std::uint32_t(stmt.size()));
            out += stmt;
        }
    }
    return out;
}

Result<Schema> decodeSchema(std::string_view data) {
    auto corrupt = [](const std::string& what) {
        return Status(ErrorCode::Corruption, "schema record: " + what);
    };
    ByteReader in(data);
    const std::uint8_t format = in.u8();
    if (!in.ok())
        return corrupt("empty");
    if (format != kFormatVersion)
        return corrupt("unknown format version " + std::to_string(format));
    const std::uint64_t revision = in.u64();
    const std::uint32_t typeCount = in.u32();
    Schema::Types types;
    for (std::uint32_t t = 0; t < typeCount && in.ok(); ++t) {
        auto type = std::make_shared<ActorType>();
        type->name = in.bytes(in.u32());
        const std::uint8_t flags = in.u8();
        const std::uint32_t count = in.u32();
        if (!in.ok())
            break;
        if (!isTypeName(type->name))
            return corrupt("invalid type name \"" + excerpt(type->name) + "\"");
        if (!types.empty() && types.rbegin()->first >= type->name)
            return corrupt("types out of order at \"" + type->name + "\"");
        if ((flags & ~kFlagKv) != 0)
            return corrupt("unknown flags of type " + type->name);
        if (count == 0)
            return corrupt("type " + type->name + " has no statements");
        type->kv = (flags & kFlagKv) != 0;
        for (std::uint32_t s = 0; s < count && in.ok(); ++s) {
            std::string_view stmt = in.bytes(in.u32());
            if (in.ok())
                type->statements.emplace_back(stmt);
        }
        types.emplace(type->name, std::move(type));
    }
    if (!in.ok())
        return corrupt("truncated");
    if (!in.atEnd())
        return corrupt("trailing bytes");
    return Schema(std::move(types), revision);
}

std::string scriptOf(const Schema& schema) {
    std::string out;
    for (const std::string& name : schema.typeNames()) {
        const ActorType& type = *schema.find(name);
        if (!out.empty())
            out += '\n';
        out += "ACTOR " + name + (type.kv ? " KV\n" : "\n");
        for (const std::string& stmt : type.statements)
            out += stmt + ";\n";
    }
    return out;
}

} // namespace troupe::sql
