#pragma once
// Sizes as users write them ("5GB", "500MiB", "1e9") and as we print them.
#include <cstdint>
#include <string>

namespace supra {

// Decimal units are powers of 1000 (as huggingface_hub's "5GB"), binary ones
// powers of 1024. Throws a usage error on anything else.
uint64_t parse_byte_size(const std::string& text);
// "1.23 GiB" style.
std::string format_bytes(uint64_t bytes);

}  // namespace supra
