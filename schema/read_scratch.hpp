#pragma once
// Scratch memory for TensorSource reads that hold input bytes before
// transforming them (a cast, a quantizer, a transpose).
//
// Sources nest: a cast of a RoPE permutation of a cast reads its input while
// its own scratch is in use, so one buffer per thread is wrong (the inner
// read overwrote the outer one's input, issue 7). A ReadScratch is a frame on
// this thread's stack of buffers: a read nested inside another gets the next
// frame, never the same one, and the frame of depth d is reused by the next
// read at depth d, so chunked reads allocate nothing in steady state.
// Frames must be local variables (destroyed in reverse order of creation).
#include <cstddef>
#include <span>

namespace supra {

class ReadScratch {
 public:
  // At least `bytes` of uninitialised memory, aligned for any scalar type.
  explicit ReadScratch(size_t bytes);
  ~ReadScratch();
  ReadScratch(const ReadScratch&) = delete;
  ReadScratch& operator=(const ReadScratch&) = delete;

  std::span<std::byte> bytes() const { return {data_, size_}; }
  template <typename T>
  std::span<T> as() const {
    return {reinterpret_cast<T*>(data_), size_ / sizeof(T)};
  }

 private:
  std::byte* data_;
  size_t size_;
  size_t depth_;
};

}  // namespace supra
