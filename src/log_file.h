// LogFile: the append-only log file of one try, shared by the bash and SQL
// runners. Creates its folders; remembers the first write error (a full disk
// is reported, never fatal). Not thread-safe: callers serialize writes.
//
// A deferred LogFile is opened elsewhere (the bash runner opens logs on a
// helper thread: creating a folder and a file can take a millisecond on a
// busy file system, time that would delay the task's start). Until Adopt,
// writes wait in memory, in order.
#ifndef DWFS_LOG_FILE_H_
#define DWFS_LOG_FILE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

namespace dwfs {

class LogFile {
 public:
  struct Deferred {};

  explicit LogFile(const std::string& path) { fd_ = Open(path, &error_); }
  explicit LogFile(Deferred) : deferred_(true) {}
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Creates the folders of `path` and opens it for appending (any thread).
  // Returns the fd, or -1 with *error set.
  static int Open(const std::string& path, std::string* error) {
    // Usually only the last folder is missing (a new task or try): one mkdir,
    // and the whole chain only when that fails.
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && ::mkdir(parent.c_str(), 0777) != 0 && errno != EEXIST) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) *error = "cannot open log " + path + ": " + std::strerror(errno);
    return fd;
  }

  // A deferred log takes the result of Open (which it now owns) and writes
  // what waited.
  void Adopt(int fd, std::string error) {
    if (!deferred_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    deferred_ = false;
    fd_ = fd;
    if (error_.empty()) error_ = std::move(error);
    std::string waiting = std::move(pending_);
    pending_.clear();
    if (!waiting.empty()) Write(waiting);
  }
  // False while a deferred log waits for Adopt.
  bool ready() const { return !deferred_; }

  void Write(const std::string& s) {
    if (deferred_) {
      pending_ += s;
      return;
    }
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
  bool deferred_ = false;
  std::string pending_;  // written before a deferred log was adopted
  std::string error_;
};

}  // namespace dwfs

#endif  // DWFS_LOG_FILE_H_
