// Downloads the next remote objects of a read while the current one is decoded, on
// `threads` threads, each object whole into memory. Memory stays bounded: at most `threads`
// objects are held ahead of the decoder, and an object larger than its share of `budget` is
// not fetched ahead but streamed by the decoder itself. Local objects are never fetched ahead
// (the page cache and read-ahead of the kernel do it better).
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

  // files[i] to decode: its bytes come from memory when it was fetched ahead. Call in order.
  Result<InputObject> take(size_t i);

 private:
  struct Slot {
    bool done = false;
    bool fetched = false;
    Status error;
    std::shared_ptr<const std::string> bytes;
  };
  void work();
  bool eligible(const InputObject& o) const;

  const std::vector<InputFile>& files_;
  unsigned threads_;
  uint64_t per_object_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  size_t next_ = 0;     // the next object a worker takes
  size_t current_ = 0;  // the object the decoder is at
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace byoml
