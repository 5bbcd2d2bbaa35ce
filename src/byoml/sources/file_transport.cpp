#include "byoml/sources/file_transport.h"
#include "byoml/sources/export_layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace byoml {
namespace fs = std::filesystem;

namespace {

class FileStream final : public ByteStream {
 public:
  explicit FileStream(int fd) : fd_(fd) {}
  ~FileStream() override { ::close(fd_); }
  Result<size_t> read(char* dst, size_t n) override {
    ssize_t got;
    do {
      got = ::read(fd_, dst, n);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return Status(ErrorCode::kIo, fmt::format("read failed: {}", std::strerror(errno)));
    return static_cast<size_t>(got);
  }

 private:
  int fd_;
};

std::string path_of(const std::string& url) { return url.rfind("file://", 0) == 0 ? url.substr(7) : url; }

// Standard input, a FIFO or a character device named on its own: bytes that can be read once.
// Decoders open an object more than once (to tell its format, then to read it), so what the
// reads took is kept (up to kReplayBytes) and served again to the next open.
class PipeTransport final : public Transport {
 public:
  static constexpr size_t kReplayBytes = 16u << 20;
  explicit PipeTransport(int fd) : fd_(fd) {}
  ~PipeTransport() override {
    if (fd_ != STDIN_FILENO) ::close(fd_);
  }
  Result<std::vector<InputObject>> list(const std::string&, const ListHint&, std::vector<SkippedObject>&) const override {
    return std::vector<InputObject>();
  }
  Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const override;

 private:
  friend class PipeStream;
  int fd_;
  mutable std::string kept_;       // every byte read so far, while it fits kReplayBytes
  mutable uint64_t consumed_ = 0;  // bytes taken from fd_
};

class PipeStream final : public ByteStream {
 public:
  PipeStream(const PipeTransport& p, uint64_t at) : p_(p), at_(at) {}
  Result<size_t> read(char* dst, size_t n) override {
    if (at_ < p_.consumed_) {
      size_t k = std::min<uint64_t>(n, p_.consumed_ - at_);
      std::memcpy(dst, p_.kept_.data() + at_, k);
      at_ += k;
      return k;
    }
    ssize_t got;
    do {
      got = ::read(p_.fd_, dst, n);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return Status(ErrorCode::kIo, fmt::format("read failed: {}", std::strerror(errno)));
    if (p_.consumed_ + static_cast<uint64_t>(got) <= PipeTransport::kReplayBytes) p_.kept_.append(dst, static_cast<size_t>(got));
    else p_.kept_.clear();
    p_.consumed_ += static_cast<uint64_t>(got);
    at_ += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  }

 private:
  const PipeTransport& p_;
  uint64_t at_;
};

Result<std::unique_ptr<ByteStream>> PipeTransport::open(const InputObject& object, uint64_t offset) const {
  if (offset > consumed_ || (consumed_ > 0 && kept_.size() != consumed_ && offset < consumed_))
    return Status(ErrorCode::kUnsupported, fmt::format("{} can be read only once from the start", object.name));
  return std::unique_ptr<ByteStream>(std::make_unique<PipeStream>(*this, offset));
}

InputObject pipe_object(const std::string& source, const std::string& path, int fd) {
  InputObject o;
  o.transport = std::make_shared<PipeTransport>(fd);
  o.source = source;
  o.name = path == "-" ? "<stdin>" : path;
  return o;
}

InputObject object_at(std::shared_ptr<const Transport> t, const std::string& source, const std::string& path) {
  InputObject o;
  o.transport = t;
  o.source = source;
  o.name = path;
  o.local_path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    o.size = static_cast<uint64_t>(st.st_size);
    o.version = fmt::format("{}:{}.{:09d}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }
  return o;
}

}  // namespace

Result<std::vector<InputObject>> FileTransport::list(const std::string& url, const ListHint& hint,
                                                     std::vector<SkippedObject>& skipped) const {
  const std::string root = path_of(url);
  std::vector<InputObject> out;
  if (root == "-") {
    out.push_back(pipe_object(url, root, STDIN_FILENO));
    return out;
  }
  std::error_code ec;
  auto status = fs::status(root, ec);
  if (ec || !fs::exists(status)) return Status(ErrorCode::kNotFound, fmt::format("{}: no such file or directory", root));
  if (fs::is_regular_file(status)) {
    out.push_back(object_at(shared_from_this(), url, root));
    return out;
  }
  // A pipe named on its own (`<(zcat ...)`, a named FIFO), or standard input by a name of its
  // own: read as a stream. Inside a folder they are skipped; other devices (/dev/zero never
  // ends) are refused.
  const bool stdin_name = root == "/dev/stdin" || root.rfind("/dev/fd/", 0) == 0 || root.rfind("/proc/self/fd/", 0) == 0;
  if (fs::is_fifo(status) || (stdin_name && fs::is_character_file(status))) {
    int fd = ::open(root.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status(ErrorCode::kIo, fmt::format("cannot open {}: {}", root, std::strerror(errno)));
    out.push_back(pipe_object(url, root, fd));
    return out;
  }
  if (!fs::is_directory(status))
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: not a regular file, pipe or directory (a device never ends; a socket blocks)", root));
  std::vector<std::string> files;
  std::vector<fs::path> dirs = {root};
  while (!dirs.empty()) {
    fs::path dir = std::move(dirs.back());
    dirs.pop_back();
    fs::directory_iterator it(dir, ec), end;
    if (ec) {
      skipped.push_back({dir.string(), fmt::format("cannot read directory: {}", ec.message())});
      continue;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) {
        skipped.push_back({dir.string(), fmt::format("cannot list directory: {}", ec.message())});
        break;
      }
      // The entry's own type comes with the listing (d_type): only a link costs a stat.
      bool link = it->is_symlink(ec);
      auto type = link ? it->status(ec).type() : it->symlink_status(ec).type();
      if (type == fs::file_type::directory && !link) {
        // An export tree's days outside the window hold nothing to read (as the Blob listing).
        auto day = export_day_folder(it->path().native());
        if (!day || hint.window.overlaps(day->from, day->to)) dirs.push_back(it->path());
      }
      else if (type == fs::file_type::regular) files.push_back(it->path().string());
      else if (type == fs::file_type::directory) skipped.push_back({it->path().string(), "link to a directory (not followed)"});
      else skipped.push_back({it->path().string(), ec ? ec.message() : "not a regular file (device, FIFO or socket)"});
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back(object_at(shared_from_this(), url, f));
  return out;
}

Result<std::unique_ptr<ByteStream>> FileTransport::open(const InputObject& object, uint64_t offset) const {
  int fd = ::open(object.local_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorCode::kIo, fmt::format("cannot open {}: {}", object.name, std::strerror(errno)));
  auto stream = std::make_unique<FileStream>(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (offset > 0 && ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0)
    return Status(ErrorCode::kIo, fmt::format("cannot seek {} to {}: {}", object.name, offset, std::strerror(errno)));
  return std::unique_ptr<ByteStream>(std::move(stream));
}

void FileTransport::prefetch(const InputObject& object, uint64_t offset) const {
  // Asynchronous read-ahead by the kernel: the call returns at once.
  int fd = ::open(object.local_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // open() reports it when the object is read
  ::posix_fadvise(fd, static_cast<off_t>(offset), 0, POSIX_FADV_WILLNEED);
  ::close(fd);
}

}  // namespace byoml
