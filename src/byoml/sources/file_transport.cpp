#include "byoml/sources/file_transport.h"

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

InputObject object_at(const FileTransport* t, const std::string& source, const std::string& path) {
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

Result<std::vector<InputObject>> FileTransport::list(const std::string& url, std::vector<SkippedObject>& skipped) const {
  const std::string root = path_of(url);
  std::error_code ec;
  auto status = fs::status(root, ec);
  if (ec || !fs::exists(status)) return Status(ErrorCode::kNotFound, fmt::format("{}: no such file or directory", root));
  std::vector<InputObject> out;
  if (fs::is_regular_file(status)) {
    out.push_back(object_at(this, url, root));
    return out;
  }
  if (!fs::is_directory(status))
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: not a regular file or directory (a device, FIFO or socket never ends or blocks)", root));
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
      bool link = it->is_symlink(ec);
      auto type = it->status(ec).type();
      if (type == fs::file_type::directory && !link) dirs.push_back(it->path());
      else if (type == fs::file_type::regular) files.push_back(it->path().string());
      else if (type == fs::file_type::directory) skipped.push_back({it->path().string(), "link to a directory (not followed)"});
      else skipped.push_back({it->path().string(), ec ? ec.message() : "not a regular file (device, FIFO or socket)"});
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back(object_at(this, url, f));
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

}  // namespace byoml
