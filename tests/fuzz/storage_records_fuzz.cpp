// libFuzzer target for the decoders of what daemon/storage reads back from LMDB: stored pages
// (page_codec.h), log entries (log_entry.h), and the records read through an environment —
// a shard's raft state and raft log records (log_store.h) and catalog records (catalog.h). The
// last three decode inside LMDB reads, so the target writes the fuzzer's bytes as the value in
// a scratch environment (a temporary directory, one per process) and reads them back through
// the public functions, in a write transaction that is aborted: nothing is ever committed.
//
// The first byte picks a mode (by value modulo 5); the rest is that mode's input.
// Invariants beyond "no crash, no leak, no sanitizer report" — anything the decoders accept
// survives a round trip through the matching encoder:
//   0 decodePage() into an exactly 4096-byte buffer; encodePage() of it decodes to the same.
//   1 decodeLogEntry(); encodeLogEntry() of it decodes to the same entry.
//   2 LogStore::raftState() of the bytes; setRaftState() of it reads back the same.
//   3 Catalog::find() and list() of the record (type and name from the input); put() of the
//     record finds the same record.
//   4 LogStore::read() and term() of a raft log record; append() of it reads back the same.
//
// The storage formats are gaining checksums (issue 13): this target calls today's functions
// and is kept thin so that it follows them easily.
//
// Built twice: troupe-fuzz-storage-records with libFuzzer (the fuzz preset), and
// fuzz_storage_records_replay with replay_main.cpp, which CTest runs over
// corpus/storage_records/.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "storage/catalog.h"
#include "storage/environment.h"
#include "storage/log_entry.h"
#include "storage/log_store.h"
#include "storage/page_codec.h"

using namespace troupe;
using namespace troupe::fuzz;
using namespace troupe::storage;

namespace {

constexpr std::size_t kMaxValue = 256 * 1024;

bool operator==(const HardState& a, const HardState& b) {
    return a.term == b.term && a.vote == b.vote && a.commit == b.commit && a.applied == b.applied;
}

bool sameEntry(const LogEntry& a, const LogEntry& b) {
    if (a.catalogOps.size() != b.catalogOps.size() || a.writeSets.size() != b.writeSets.size() ||
        a.metaOps.size() != b.metaOps.size())
        return false;
    for (std::size_t i = 0; i < a.catalogOps.size(); ++i) {
        const ActorRecord &x = a.catalogOps[i].record, &y = b.catalogOps[i].record;
        if (a.catalogOps[i].kind != b.catalogOps[i].kind || x.type != y.type || x.name != y.name ||
            x.id != y.id || x.hash != y.hash || x.flags != y.flags)
            return false;
    }
    for (std::size_t i = 0; i < a.writeSets.size(); ++i) {
        const WriteSet &x = a.writeSets[i], &y = b.writeSets[i];
        if (x.actorId != y.actorId || x.dbPages != y.dbPages || x.pages.size() != y.pages.size())
            return false;
        for (std::size_t j = 0; j < x.pages.size(); ++j)
            if (x.pages[j].pgno != y.pages[j].pgno || x.pages[j].stored != y.pages[j].stored)
                return false;
    }
    for (std::size_t i = 0; i < a.metaOps.size(); ++i) {
        if (a.metaOps[i].kind != b.metaOps[i].kind || a.metaOps[i].key != b.metaOps[i].key ||
            a.metaOps[i].value != b.metaOps[i].value)
            return false;
    }
    return true;
}

void fuzzPage(std::string_view stored) {
    auto page = std::make_unique<std::uint8_t[]>(kPageSize); // exact size: ASan sees over-writes
    if (!decodePage(stored, page.get()).isOk())
        return;
    std::string encoded;
    encodePage(page.get(), encoded);
    auto again = std::make_unique<std::uint8_t[]>(kPageSize);
    TROUPE_FUZZ_CHECK(decodePage(encoded, again.get()).isOk());
    TROUPE_FUZZ_CHECK(std::equal(page.get(), page.get() + kPageSize, again.get()));
}

void fuzzLogEntry(std::string_view bytes) {
    auto entry = decodeLogEntry(bytes);
    if (!entry)
        return;
    auto again = decodeLogEntry(encodeLogEntry(*entry));
    TROUPE_FUZZ_CHECK(again.isOk() && sameEntry(*entry, *again));
}

// The scratch environment of this process: a temporary directory, removed at exit.
struct Scratch {
    std::filesystem::path dir;
    std::unique_ptr<Environment> env;

    Scratch() {
        std::string pattern = std::filesystem::temp_directory_path() / "troupe-fuzz-XXXXXX";
        TROUPE_FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        EnvironmentOptions options;
        options.initialMapSize = 8u << 20;
        options.fsync = FsyncMode::Off;
        auto opened = Environment::open(dir, options);
        TROUPE_FUZZ_CHECK(opened.isOk());
        env = std::move(*opened);
    }
    ~Scratch() {
        env.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

Environment& scratch() {
    static Scratch s;
    return *s.env;
}

Status put(MDB_txn* txn, MDB_dbi db, std::string_view k, std::string_view v) {
    MDB_val key{k.size(), const_cast<char*>(k.data())};
    MDB_val val{v.size(), const_cast<char*>(v.data())};
    const int rc = mdb_put(txn, db, &key, &val, 0);
    return rc == 0 ? Status::ok() : Environment::fromMdb(rc, "fuzz put");
}

std::string bigEndian(std::uint64_t v, int bytes) {
    std::string out;
    for (int i = bytes - 1; i >= 0; --i)
        out.push_back(char(v >> (8 * i)));
    return out;
}

// Runs `body` in a write transaction of the scratch environment and aborts it.
void inAbortedTxn(const std::function<void(MDB_txn*)>& body) {
    const Status s = scratch().write([&](MDB_txn* txn) {
        body(txn);
        return Status(ErrorCode::Internal, "fuzz: abort");
    });
    TROUPE_FUZZ_CHECK(s.code() == ErrorCode::Internal);
}

void fuzzRaftState(FuzzInput& in) {
    const std::uint32_t shard = in.byte();
    const std::string_view value = in.bytes(kMaxValue);
    inAbortedTxn([&](MDB_txn* txn) {
        const Environment& env = scratch();
        if (value.empty() || !put(txn, env.dbs().raftstate, bigEndian(shard, 4), value).isOk())
            return;
        auto state = LogStore::raftState(env, txn, shard);
        (void)LogStore::hardState(env, txn, shard);
        if (!state)
            return;
        TROUPE_FUZZ_CHECK(LogStore::setRaftState(env, txn, shard, *state).isOk());
        auto again = LogStore::raftState(env, txn, shard);
        TROUPE_FUZZ_CHECK(again.isOk() && again->hard == state->hard &&
                          again->snapshot == state->snapshot);
    });
}

void fuzzCatalog(FuzzInput& in) {
    const std::string type(in.bytes(in.byte() % 70));
    const std::string name(in.bytes(in.byte()));
    const std::string_view value = in.bytes(64);
    if (type.empty() && name.empty())
        return; // an empty LMDB key
    inAbortedTxn([&](MDB_txn* txn) {
        const Environment& env = scratch();
        if (!put(txn, env.dbs().actors, encodeCatalogKey(type, name), value).isOk())
            return;
        (void)Catalog::list(env, txn, type, "", "", 10);
        auto record = Catalog::find(env, txn, type, name);
        if (!record)
            return;
        TROUPE_FUZZ_CHECK(record->type == type && record->name == name);
        TROUPE_FUZZ_CHECK(Catalog::put(env, txn, *record).isOk());
        auto again = Catalog::find(env, txn, type, name);
        TROUPE_FUZZ_CHECK(again.isOk() && again->id == record->id && again->hash == record->hash &&
                          again->flags == record->flags);
    });
}

void fuzzLogRecord(FuzzInput& in) {
    const std::uint32_t shard = in.byte();
    const std::uint64_t index = 1 + in.byte();
    const std::string_view value = in.bytes(kMaxValue);
    inAbortedTxn([&](MDB_txn* txn) {
        const Environment& env = scratch();
        const std::string key = bigEndian(shard, 4) + bigEndian(index, 8);
        if (!put(txn, env.dbs().raftlog, key, value).isOk())
            return;
        (void)LogStore::term(env, txn, shard, index);
        (void)LogStore::lastIndex(env, txn, shard);
        auto records = LogStore::read(env, txn, shard, 1, 300);
        if (!records)
            return;
        TROUPE_FUZZ_CHECK(records->size() == 1 && records->front().index == index);
        const RaftLogRecord record = records->front();
        TROUPE_FUZZ_CHECK(LogStore::append(env, txn, shard, record).isOk());
        auto again = LogStore::read(env, txn, shard, index, index);
        TROUPE_FUZZ_CHECK(again.isOk() && again->size() == 1);
        const RaftLogRecord& r = again->front();
        TROUPE_FUZZ_CHECK(r.term == record.term && r.type == record.type &&
                          r.payload == record.payload);
    });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    switch (in.byte() % 5) {
    case 0:
        fuzzPage(in.bytes(kMaxValue));
        break;
    case 1:
        fuzzLogEntry(in.bytes(kMaxValue));
        break;
    case 2:
        fuzzRaftState(in);
        break;
    case 3:
        fuzzCatalog(in);
        break;
    default:
        fuzzLogRecord(in);
        break;
    }
    return 0;
}
