#pragma once
// Vector fast paths of the casts real conversions spend their time in
// (AVX2 + F16C, chosen at run time). Each converts the longest prefix of
// `count` it can and returns its length; cast_elements finishes the tail, and
// does everything on a CPU without these instructions, with the scalar code in
// float_convert.cpp, which stays the definition of every result bit and of the
// overflow / underflow counts (tests/schema/cast_kernels_test.cpp checks the
// two agree on every bf16 and f16 pattern and on random f32 bits).
#include <cstddef>

#include "schema/float_convert.hpp"

namespace supra::cast_kernels {

// True when the CPU has AVX2 and F16C (then the functions below do work).
bool available();

size_t bf16_to_f16(const std::byte* src, std::byte* dst, size_t count, CastStats& stats);
size_t f32_to_f16(const std::byte* src, std::byte* dst, size_t count, CastStats& stats);
size_t f32_to_bf16(const std::byte* src, std::byte* dst, size_t count, CastStats& stats);
size_t f16_to_f32(const std::byte* src, std::byte* dst, size_t count);

}  // namespace supra::cast_kernels
