#include "sql/row_spill.h"

#include <atomic>
#include <cstring>
#include <random>

namespace troupe::sql {

namespace {

enum Tag : std::uint8_t { kNull = 0, kInteger = 1, kReal = 2, kText = 3, kBlob = 4 };

void putU32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out += char((v >> (8 * i)) & 0xff);
}

void putU64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out += char((v >> (8 * i)) & 0xff);
}

void putBytes(std::string& out, Tag tag, const std::string& bytes) {
    out += char(tag);
    putU32(out, std::uint32_t(bytes.size()));
    out += bytes;
}

Status ioError(const std::filesystem::path& path, const char* what) {
    return Status(ErrorCode::IoError, std::string("spill file ") + path.string() + ": " + what +
                                          ": " + std::strerror(errno));
}

} // namespace

RowSpill::RowSpill(std::FILE* file, std::filesystem::path path)
    : m_file(file), m_path(std::move(path)) {}

RowSpill::~RowSpill() {
    std::fclose(m_file);
    if (!m_path.empty()) {
        std::error_code ec;
        std::filesystem::remove(m_path, ec);
    }
}

Result<std::shared_ptr<RowSpill>> RowSpill::create(const std::filesystem::path& dir) {
    static std::atomic<std::uint64_t> counter{0};
    static const std::uint64_t process = std::random_device{}();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return Status(ErrorCode::IoError,
                      "cannot create spill directory " + dir.string() + ": " + ec.message());
    const std::filesystem::path path = dir / ("rows-" + std::to_string(process) + "-" +
                                              std::to_string(counter.fetch_add(1)) + ".spill");
#ifdef _WIN32
    // "D": deleted when closed (_O_TEMPORARY), whatever ends the process.
    std::FILE* file = _wfopen(path.c_str(), L"w+bD");
#else
    std::FILE* file = std::fopen(path.c_str(), "w+b");
#endif
    if (!file)
        return ioError(path, "cannot create");
    std::filesystem::path keep = path;
#ifndef _WIN32
    if (std::remove(path.c_str()) == 0)
        keep.clear(); // unlinked while open: nothing to remove later
#endif
    return std::shared_ptr<RowSpill>(new RowSpill(file, std::move(keep)));
}

Status RowSpill::append(const std::vector<Value>& row) {
    std::string out;
    putU32(out, std::uint32_t(row.size()));
    for (const Value& v : row) {
        if (const auto* i = std::get_if<std::int64_t>(&v)) {
            out += char(kInteger);
            putU64(out, std::uint64_t(*i));
        } else if (const auto* d = std::get_if<double>(&v)) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, d, sizeof bits);
            out += char(kReal);
            putU64(out, bits);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            putBytes(out, kText, *s);
        } else if (const auto* b = std::get_if<Blob>(&v)) {
            putBytes(out, kBlob, b->bytes);
        } else {
            out += char(kNull);
        }
    }
    if (std::fwrite(out.data(), 1, out.size(), m_file) != out.size())
        return ioError(m_path, "cannot write");
    ++m_rows;
    m_bytes += out.size();
    return Status::ok();
}

Status RowSpill::rewind() {
    if (std::fflush(m_file) != 0 || std::fseek(m_file, 0, SEEK_SET) != 0)
        return ioError(m_path, "cannot rewind");
    m_writing = false;
    return Status::ok();
}

Result<bool> RowSpill::next(std::vector<Value>& row) {
    if (m_writing)
        TROUPE_RETURN_IF_ERROR(rewind());
    auto readExactly = [&](void* into, std::size_t n) {
        return std::fread(into, 1, n, m_file) == n;
    };
    auto readU64 = [&](std::uint64_t& v) {
        unsigned char b[8];
        if (!readExactly(b, 8))
            return false;
        v = 0;
        for (int i = 7; i >= 0; --i)
            v = (v << 8) | b[i];
        return true;
    };
    auto readU32 = [&](std::uint32_t& v) {
        unsigned char b[4];
        if (!readExactly(b, 4))
            return false;
        v = std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 |
            std::uint32_t(b[3]) << 24;
        return true;
    };
    std::uint32_t count = 0;
    if (!readU32(count)) {
        if (std::feof(m_file))
            return false;
        return ioError(m_path, "cannot read");
    }
    const Status truncated(ErrorCode::Corruption,
                           "spill file " + m_path.string() + " is truncated");
    row.clear();
    row.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        unsigned char tag = 0;
        if (!readExactly(&tag, 1))
            return truncated;
        std::uint64_t word = 0;
        std::uint32_t size = 0;
        switch (tag) {
        case kNull:
            row.emplace_back();
            break;
        case kInteger:
            if (!readU64(word))
                return truncated;
            row.emplace_back(std::int64_t(word));
            break;
        case kReal: {
            if (!readU64(word))
                return truncated;
            double d = 0;
            std::memcpy(&d, &word, sizeof d);
            row.emplace_back(d);
            break;
        }
        case kText:
        case kBlob: {
            if (!readU32(size))
                return truncated;
            std::string bytes(size, '\0');
            if (size > 0 && !readExactly(bytes.data(), size))
                return truncated;
            if (tag == kText)
                row.emplace_back(std::move(bytes));
            else
                row.emplace_back(Blob{std::move(bytes)});
            break;
        }
        default:
            return Status(ErrorCode::Corruption, "spill file " + m_path.string() +
                                                     ": unknown value tag " + std::to_string(tag));
        }
    }
    return true;
}

std::size_t RowSpill::memoryEstimate(const std::vector<Value>& row) {
    std::size_t bytes = sizeof(row) + row.size() * sizeof(Value);
    for (const Value& v : row) {
        if (const auto* s = std::get_if<std::string>(&v))
            bytes += s->capacity() > 15 ? s->capacity() : 0;
        else if (const auto* b = std::get_if<Blob>(&v))
            bytes += b->bytes.capacity() > 15 ? b->bytes.capacity() : 0;
    }
    return bytes;
}

} // namespace troupe::sql
