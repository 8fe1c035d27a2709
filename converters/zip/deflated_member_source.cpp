#include "converters/zip/deflated_member_source.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "schema/strided_tensor_source.hpp"

namespace supra::zip {
namespace {
constexpr uint64_t kWindowBytes = 64ull << 20;
constexpr uint64_t kStepBytes = 1ull << 20;  // inflated per step when running ahead
}  // namespace

DeflatedMemberTensorSource::DeflatedMemberTensorSource(TensorInfo info, std::shared_ptr<const MappedFile> file,
                                                       ZipEntry entry, uint64_t data_at, std::vector<uint64_t> strides)
    : TensorSource(std::move(info)), stream_(std::move(file), std::move(entry)), data_at_(data_at),
      strides_(std::move(strides)) {}

void DeflatedMemberTensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const {
  std::lock_guard lock(mutex_);
  if (strides_.empty()) return read_member(data_at_ + offset, out);
  if (!inflated_) {
    auto member = std::make_shared<std::vector<std::byte>>(stream_.entry().size);
    stream_.read(0, *member);
    const std::span<const std::byte> bytes = std::span<const std::byte>(*member).subspan(data_at_);  // the strided view checks its extent
    inflated_ = std::make_shared<StridedTensorSource>(info(), member, bytes, 0, strides_);
  }
  inflated_->read(offset, out, stats);
}

void DeflatedMemberTensorSource::read_member(uint64_t at, std::span<std::byte> out) const {
  const uint64_t capacity = std::min(kWindowBytes, stream_.entry().size);
  const bool large = out.size() > capacity / 2;  // straight from the stream, past the window
  if (at < stream_.position() - window_filled_ || (large && at < stream_.position())) {
    stream_.restart();  // behind the window: start again
    window_filled_ = 0;
  }
  // Run ahead to the read (to its end if it fits the window), keeping what
  // is produced in the window.
  const uint64_t until = large ? at : at + out.size();
  std::vector<std::byte> step;
  while (stream_.position() < until) {
    step.resize(size_t(std::min(kStepBytes, until - stream_.position())));
    stream_.next(step);
    append_to_window(step);
  }
  if (!large) return copy_from_window(at, out);
  stream_.next(out);
  window_filled_ = 0;  // the window no longer ends where the stream is
}

// The window is a ring: member byte p sits at p % capacity.
void DeflatedMemberTensorSource::append_to_window(std::span<const std::byte> bytes) const {
  const uint64_t capacity = std::min(kWindowBytes, stream_.entry().size);
  if (window_.size() != capacity) window_.resize(size_t(capacity));
  const uint64_t start = stream_.position() - bytes.size();
  for (uint64_t done = 0; done < bytes.size();) {
    const uint64_t slot = (start + done) % capacity;
    const uint64_t n = std::min(bytes.size() - done, capacity - slot);
    std::memcpy(window_.data() + slot, bytes.data() + done, size_t(n));
    done += n;
  }
  window_filled_ = std::min(capacity, window_filled_ + bytes.size());
}

void DeflatedMemberTensorSource::copy_from_window(uint64_t at, std::span<std::byte> out) const {
  if (out.empty()) return;
  if (at < stream_.position() - window_filled_ || at + out.size() > stream_.position())
    throw std::logic_error("deflated member read does not fit the window");
  const uint64_t capacity = window_.size();
  for (uint64_t done = 0; done < out.size();) {
    const uint64_t slot = (at + done) % capacity;
    const uint64_t n = std::min(out.size() - done, capacity - slot);
    std::memcpy(out.data() + done, window_.data() + slot, size_t(n));
    done += n;
  }
}

}  // namespace supra::zip
