#include "byoml/common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace byoml {

Result<FileLock> FileLock::acquire(const std::string& path, const WaitNotice& on_wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status(ErrorCode::kIo, fmt::format("{}: cannot open lock file: {}", path, std::strerror(errno)));
  FileLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
  if (errno != EWOULDBLOCK)
    return Status(ErrorCode::kIo, fmt::format("{}: cannot lock: {}", path, std::strerror(errno)));
  if (on_wait) on_wait(fmt::format("{} is locked by another byoml run; waiting for it to finish", path));
  while (::flock(fd, LOCK_EX) != 0)
    if (errno != EINTR) return Status(ErrorCode::kIo, fmt::format("{}: cannot lock: {}", path, std::strerror(errno)));
  return lock;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

}  // namespace byoml
