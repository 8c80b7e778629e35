// Json: a small JSON value for machine-readable output (-o json), JSON log
// lines and API bodies. Objects keep insertion order so output keys
// are stable. Strings are UTF-8; Dump() escapes control characters and
// replaces invalid UTF-8 with U+FFFD, so any bytes give valid JSON.
#ifndef DWFS_JSON_H_
#define DWFS_JSON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dwfs/status.h"

namespace dwfs {

class Json {
 public:
  enum class Type { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::kBool), int_(b) {}
  Json(int v) : type_(Type::kInt), int_(v) {}
  Json(int64_t v) : type_(Type::kInt), int_(v) {}
  Json(double v) : type_(Type::kDouble), double_(v) {}
  Json(const char* s) : type_(Type::kString), str_(s) {}
  Json(std::string s) : type_(Type::kString), str_(std::move(s)) {}
  template <typename T>
  Json(const std::optional<T>& v) {
    if (v) *this = Json(*v);
  }

  static Json Array() {
    Json j;
    j.type_ = Type::kArray;
    return j;
  }
  static Json Object() {
    Json j;
    j.type_ = Type::kObject;
    return j;
  }
  static Json StringArray(const std::vector<std::string>& items);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }

  // Array append; the value must be an array.
  Json& Push(Json v);
  // Object set (replaces an existing key); the value must be an object.
  Json& Set(const std::string& key, Json v);
  // Object lookup; nullptr if absent or not an object.
  const Json* Find(const std::string& key) const;

  const std::string& str() const { return str_; }
  int64_t as_int() const { return int_; }
  bool as_bool() const { return int_ != 0; }
  double as_double() const { return type_ == Type::kDouble ? double_ : double(int_); }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // Compact JSON text; with indent > 0, pretty-printed.
  std::string Dump(int indent = 0) const;

 private:
  friend class JsonParser;  // src/json.cc: builds arrays and objects in place
  void DumpTo(std::string* out, int indent, int depth) const;

  Type type_ = Type::kNull;
  int64_t int_ = 0;
  double double_ = 0;
  std::string str_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses JSON text (a CLI -c/-t argument, a request body, a jsonb column)
// strictly by RFC 8259:
//  - whitespace is only space, tab, CR and LF; nothing but whitespace may
//    follow the value; no comments, single quotes, bare words, trailing
//    commas, NaN or Infinity;
//  - strings must be valid UTF-8 (no overlong forms, no encoded surrogates);
//    escapes are \" \\ \/ \b \f \n \r \t and \uXXXX, a surrogate pair
//    decoding to one character and a lone surrogate an error; \u0000 is a NUL
//    byte in the string;
//  - a number without fraction or exponent that fits int64 is an int, any
//    other number a double; -0 is the double -0.0; a magnitude beyond the
//    double range ("1e400") is an error, one below it becomes 0;
//  - objects keep the order of their keys; a repeated key keeps its first
//    position and takes the last value (as Python and JavaScript do);
//  - arrays and objects nest at most 64 deep (brackets inside strings do not
//    count), and parsing never recurses deeper than that.
// Fails with InvalidArgument and a one-line message "invalid JSON: <what> at
// offset <byte offset> (<detail>)", naming at most one byte of the input; with
// `require_object`, a value that is not an object fails with "invalid JSON:
// expected an object like {...}". `out` is only written on success.
Status ParseJson(std::string_view text, bool require_object, Json* out);

// Appends `s` as a quoted JSON string to `out`.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace dwfs

#endif  // DWFS_JSON_H_
