// Brings the next objects of a read in while the current ones are decoded. Remote objects are
// downloaded on `threads` threads, each whole into memory. Memory stays bounded: at most
// `threads` objects are held ahead of the decoders, and an object larger than its share of
// `budget` is not fetched ahead but streamed by its decoder. Local objects are not copied: the
// kernel is asked to read the next kLocalAheadBytes of them into the page cache (prefetch), so
// a cold disk is read while the decoders work.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "byoml/sources/input_set.h"

namespace byoml {

class ReadAhead {
 public:
  ReadAhead(const std::vector<InputFile>& files, unsigned threads, uint64_t budget);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // files[i] to decode: its bytes come from memory when it was fetched ahead. Each object is
  // taken once, in about the order of the files; decoders on several threads may call it at once.
  Result<InputObject> take(size_t i);

 private:
  struct Slot {
    bool done = false;
    bool fetched = false;
    Status error;
    std::shared_ptr<const std::string> bytes;
  };
  static constexpr uint64_t kLocalAheadBytes = 64u << 20;
  void work();
  bool eligible(const InputObject& o) const;
  void hint_local();  // the thread that asks for local objects ahead of the decoders

  const std::vector<InputFile>& files_;
  unsigned threads_;
  uint64_t per_object_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  size_t next_ = 0;     // the next object a worker takes
  size_t current_ = 0;  // the furthest object a decoder has taken
  size_t taken_end_ = 0;  // one past the furthest object taken
  size_t hint_wake_at_ = SIZE_MAX;  // the hint thread sleeps until taken_end_ reaches this
  bool fetching_ = false;  // remote objects are fetched ahead
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace byoml
