// An exclusive advisory lock on a file (flock), held for the object's life. Runs that write one
// model directory take it, so they claim versions one after another; the kernel drops it when
// a holder dies, even by kill -9, so a crash never leaves a stale lock.
#pragma once

#include <functional>
#include <string>

#include "byoml/common/status.h"

namespace byoml {

// Told once when the lock is held by another process and the caller starts to wait.
using WaitNotice = std::function<void(const std::string&)>;

class FileLock {
 public:
  // Creates `path` when missing. Waits for the lock (calling `on_wait` first) as long as needed.
  static Result<FileLock> acquire(const std::string& path, const WaitNotice& on_wait = {});
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace byoml
