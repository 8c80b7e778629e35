// HTTP request and response values shared by the HTTP server (http_server.h),
// the API (api_server.h) and the health endpoint, plus the pure helpers
// that parse what a client sends: targets, query strings, Range headers,
// Basic credentials. Nothing here does I/O; everything is safe to call from
// any thread and total on any input (fuzzed by tests/fuzz/http_fuzz.cc).
#ifndef DWFS_HTTP_H_
#define DWFS_HTTP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dwfs/json.h"
#include "dwfs/status.h"

namespace dwfs {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (upper case for known verbs)
  std::string target;  // as sent: "/api/v1/dags?limit=2"
  std::string path;    // the target's path, percent-decoded; "" when undecodable
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::map<std::string, std::string> headers;              // names lower-cased; repeats joined by ", "
  std::string body;
  std::string remote;  // peer address, for logs

  // The header's value, or "" when absent. `name` in lower case.
  const std::string& Header(const std::string& name) const;
  // The first value of a query parameter, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
  // Every value of a repeated query parameter (`tags=a&tags=b`).
  std::vector<std::string> QueryAll(std::string_view name) const;
};

// A response: a string body, or a byte range of a file streamed from disk
// (the file is opened when the response is written; a file that cannot be
// opened then ends the connection).
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length and Server
  std::string body;
  std::string file_path;  // non-empty: stream [file_offset, file_offset + file_length) of this file
  uint64_t file_offset = 0;
  uint64_t file_length = 0;

  HttpResponse& Set(std::string name, std::string value);
  // 200 (or `status`) with a JSON body.
  static HttpResponse JsonBody(const Json& body, int status = 200);
  // An RFC 7807 problem (application/problem+json): {"type", "title",
  // "status", "detail"}; the title is the status's reason phrase.
  static HttpResponse Problem(int status, const std::string& detail);
};

// The reason phrase of a status code ("Not Found"); "Unknown" for others.
const char* HttpReason(int status);

// Decodes %XX escapes (and '+' as space when `plus_is_space`). False on a
// malformed escape or a decoded NUL byte.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// Splits a request target into its decoded path and query parameters. False
// when the target is not origin-form ("/..."), an escape is malformed, or
// the decoded path contains "." or ".." segments or a NUL byte (so an id
// can never walk out of its place).
bool ParseTarget(std::string_view target, std::string* path,
                 std::vector<std::pair<std::string, std::string>>* query);

// Decodes "a=1&b=x+y" (a query string or an
// application/x-www-form-urlencoded body) into *query. False on a malformed
// escape or a NUL byte.
bool ParseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>* query);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string> CookieValue(std::string_view header, std::string_view name);

// Splits "/a/b/c" into {"a", "b", "c"} (empty segments dropped).
std::vector<std::string> PathSegments(std::string_view path);

// One byte range resolved against a resource of `size` bytes.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};
enum class RangeResult { kNone, kSatisfiable, kUnsatisfiable, kInvalid };
// Parses a Range header ("bytes=0-99", "bytes=100-", "bytes=-500") for a
// resource of `size` bytes. kNone for an empty header; kInvalid for syntax
// this server does not take (other units, several ranges): the caller then
// serves the whole resource, as RFC 9110 allows. kUnsatisfiable -> 416.
RangeResult ParseRange(std::string_view header, uint64_t size, ByteRange* out);

// Decodes "Basic base64(user:password)". False when the header is not Basic
// or malformed.
bool ParseBasicAuth(std::string_view header, std::string* user, std::string* password);

// Base64 (standard alphabet, padded) of `in`; tests and clients use it.
std::string Base64Encode(std::string_view in);

}  // namespace dwfs

#endif  // DWFS_HTTP_H_
