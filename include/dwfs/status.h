// Status: the error value of the dwfs core (after LevelDB's Status).
//
// A Status is either OK or carries a code and a one-line message that names
// the thing at fault (file, line, DAG, task). Functions that can fail return
// a Status and write their result through an out-parameter or return a
// std::optional. Status is a cheap, copyable value type; thread-compatible.
#ifndef DWFS_STATUS_H_
#define DWFS_STATUS_H_

#include <string>
#include <utility>

namespace dwfs {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // bad usage or input: CLI exit status 2
    kNotFound,         // unknown DAG, task, key: CLI exit status 2
    kIOError,          // file system or network failure
    kFailed,           // the work failed (a task, a run): CLI exit status 1
    kInternal,
    kAlreadyExists,       // a duplicate (run id, logical date): CLI exit status 2
    kFailedPrecondition,  // the system is not in the needed state (schema version): exit 1
  };

  Status() = default;  // OK
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Failed(std::string msg) { return Status(Code::kFailed, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) { return Status(Code::kFailedPrecondition, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // The one-line message; empty for OK.
  const std::string& message() const { return message_; }
  // "OK" or the message.
  std::string ToString() const { return ok() ? "OK" : message_; }
  // The CLI exit status this error maps to (cli.md): 0, 1 or 2.
  int ExitCode() const;

  // Returns a copy whose message is "<prefix>: <message>".
  Status WithPrefix(const std::string& prefix) const {
    return ok() ? *this : Status(code_, prefix + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

inline int Status::ExitCode() const {
  switch (code_) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kAlreadyExists: return 2;
    default: return 1;
  }
}

}  // namespace dwfs

#define DWFS_RETURN_IF_ERROR(expr)      \
  do {                                  \
    ::dwfs::Status _st = (expr);        \
    if (!_st.ok()) return _st;          \
  } while (0)

#endif  // DWFS_STATUS_H_
