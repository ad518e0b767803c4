#pragma once

#include <cstdint>
#include <string_view>

namespace troupe {

// MurmurHash3 x86_32 of the bytes of `key`: the hash that places an actor name on a shard
// (DESIGN §1). Little-endian block reads, as the reference defines it, on every platform.
std::uint32_t murmur3_32(std::string_view key, std::uint32_t seed = 0);

} // namespace troupe
