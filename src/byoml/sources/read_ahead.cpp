#include "byoml/sources/read_ahead.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace byoml {
namespace {

// An object's bytes from `start` on, held in memory.
class BufferedTransport final : public Transport {
 public:
  BufferedTransport(std::shared_ptr<const std::string> bytes, uint64_t start) : bytes_(std::move(bytes)), start_(start) {}
  Result<std::vector<InputObject>> list(const std::string&, const ListHint&, std::vector<SkippedObject>&) const override {
    return std::vector<InputObject>();
  }
  Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const override {
    if (offset < start_) return Status(ErrorCode::kUnsupported, object.name + ": read before where it was fetched from");
    struct Stream final : ByteStream {
      std::shared_ptr<const std::string> keep;
      std::string_view rest;
      Result<size_t> read(char* dst, size_t n) override {
        n = std::min(n, rest.size());
        std::memcpy(dst, rest.data(), n);
        rest.remove_prefix(n);
        return n;
      }
    };
    auto s = std::make_unique<Stream>();
    s->keep = bytes_;
    s->rest = std::string_view(*bytes_).substr(std::min<uint64_t>(offset - start_, bytes_->size()));
    return std::unique_ptr<ByteStream>(std::move(s));
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  uint64_t start_;
};

Result<std::string> fetch(const InputObject& o) {
  auto in = o.open(o.start);
  if (!in) return in.status();
  std::string out(o.size - o.start, '\0');
  size_t at = 0;
  while (at < out.size()) {
    auto n = (*in)->read(out.data() + at, out.size() - at);
    if (!n) return n.status();
    if (*n == 0) break;
    at += *n;
  }
  out.resize(at);
  return out;
}

}  // namespace

ReadAhead::ReadAhead(const std::vector<InputFile>& files, unsigned threads, uint64_t budget)
    : files_(files), threads_(std::max(1u, threads)), per_object_(budget / std::max(1u, threads)), slots_(files.size()) {
  bool remote = false, local = false;
  for (const auto& f : files_) {
    remote = remote || eligible(f.object);
    local = local || (f.object.transport && !f.object.transport->remote());
  }
  // The hints cost a system call or two per object even when it is cached already: a thread of
  // their own keeps that off the decoders.
  if (local && files_.size() > 1) workers_.emplace_back([this] { hint_local(); });
  if (!remote) return;
  fetching_ = true;
  for (unsigned t = 0; t < threads_; ++t) workers_.emplace_back([this] { work(); });
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

bool ReadAhead::eligible(const InputObject& o) const {
  return o.transport && o.transport->remote() && o.byte_offsets && o.size > o.start && o.size - o.start <= per_object_;
}

void ReadAhead::work() {
  for (;;) {
    size_t i;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // At most threads_ objects ahead of the decoder are held or in flight.
      cv_.wait(lock, [&] { return stop_ || next_ >= files_.size() || next_ <= current_ + threads_; });
      if (stop_ || next_ >= files_.size()) return;
      i = next_++;
    }
    Slot result;
    const InputObject& o = files_[i].object;
    if (eligible(o)) {
      auto bytes = fetch(o);
      result.fetched = bytes.is_ok();
      if (bytes) result.bytes = std::make_shared<const std::string>(std::move(bytes).value());
      else result.error = bytes.status();
    }
    result.done = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      slots_[i] = std::move(result);
    }
    cv_.notify_all();
  }
}

void ReadAhead::hint_local() {
  std::vector<uint64_t> end(files_.size() + 1, 0);  // bytes to read up to each object
  for (size_t i = 0; i < files_.size(); ++i) end[i + 1] = end[i] + (files_[i].object.size - files_[i].object.start);
  for (size_t next = 0;; ++next) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      next = std::max(next, taken_end_);
      // Stay kLocalAheadBytes ahead of the furthest object a decoder has taken; once there, sleep
      // until the decoders are half-way through it (a wake-up per object would cost more).
      if (next < files_.size() && end[next] - end[taken_end_] >= kLocalAheadBytes) {
        hint_wake_at_ = static_cast<size_t>(
            std::upper_bound(end.begin(), end.begin() + static_cast<long>(next) + 1, end[next] - kLocalAheadBytes / 2) -
            end.begin());
        cv_.wait(lock, [&] { return stop_ || taken_end_ >= hint_wake_at_; });
        hint_wake_at_ = SIZE_MAX;
        next = std::max(next, taken_end_);
      }
      if (stop_) return;
    }
    if (next >= files_.size()) return;
    const InputObject& o = files_[next].object;
    if (o.transport && !o.transport->remote()) o.transport->prefetch(o, o.start);
  }
}

Result<InputObject> ReadAhead::take(size_t i) {
  InputObject o = files_[i].object;
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mu_);
    current_ = std::max(current_, i);
    taken_end_ = std::max(taken_end_, i + 1);
    if (!fetching_) {
      if (taken_end_ >= hint_wake_at_) cv_.notify_all();
      return o;
    }
    cv_.notify_all();
    cv_.wait(lock, [&] { return slots_[i].done; });
    slot = std::move(slots_[i]);
    slots_[i] = Slot{true, false, {}, nullptr};
  }
  if (!slot.error.is_ok()) return slot.error;
  if (slot.fetched) o.transport = std::make_shared<BufferedTransport>(std::move(slot.bytes), o.start);
  return o;
}

}  // namespace byoml
