#include "schema/read_scratch.hpp"

#include <cassert>
#include <memory>
#include <vector>

namespace supra {
namespace {

// Frames larger than this are freed when they end: a whole-tensor read
// (read_all of a cast) must not leave its size behind on the thread.
constexpr size_t kKeptFrameBytes = size_t(16) << 20;

struct Frame {
  std::unique_ptr<std::byte[]> data;  // moves with the vector, the bytes do not
  size_t capacity = 0;
};

struct FrameStack {
  std::vector<Frame> frames;
  size_t depth = 0;
};

FrameStack& this_thread_frames() {
  thread_local FrameStack stack;
  return stack;
}

}  // namespace

ReadScratch::ReadScratch(size_t bytes) : size_(bytes) {
  FrameStack& s = this_thread_frames();
  depth_ = s.depth;
  if (s.frames.size() <= depth_) s.frames.emplace_back();
  Frame& f = s.frames[depth_];
  if (f.capacity < bytes) {
    f.data.reset();
    f.capacity = 0;
    f.data = std::make_unique_for_overwrite<std::byte[]>(bytes);
    f.capacity = bytes;
  }
  data_ = f.data.get();
  ++s.depth;  // only once the frame is ours (a failed allocation takes none)
}

ReadScratch::~ReadScratch() {
  FrameStack& s = this_thread_frames();
  assert(s.depth == depth_ + 1 && "ReadScratch frames must end in reverse order");
  s.depth = depth_;
  Frame& f = s.frames[depth_];
  if (f.capacity > kKeptFrameBytes) {
    f.data.reset();
    f.capacity = 0;
  }
}

}  // namespace supra
