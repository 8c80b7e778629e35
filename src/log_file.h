// LogFile: the append-only log file of one try, shared by the bash and SQL
// runners. Creates its folders; remembers the first write error (a full disk
// is reported, never fatal). Not thread-safe: callers serialize writes.
#ifndef DWFS_LOG_FILE_H_
#define DWFS_LOG_FILE_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace dwfs {

class LogFile {
 public:
  explicit LogFile(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) error_ = "cannot open log " + path + ": " + std::strerror(errno);
  }
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  void Write(const std::string& s) {
    if (fd_ < 0) return;
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (error_.empty()) error_ = std::string("log write failed: ") + std::strerror(errno);
        return;
      }
      off += size_t(n);
    }
  }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

}  // namespace dwfs

#endif  // DWFS_LOG_FILE_H_
