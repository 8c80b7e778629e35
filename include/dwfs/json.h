// Json: a small JSON value for machine-readable output (-o json), JSON log
// lines and, later, API bodies. Objects keep insertion order so output keys
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
  void DumpTo(std::string* out, int indent, int depth) const;

  Type type_ = Type::kNull;
  int64_t int_ = 0;
  double double_ = 0;
  std::string str_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses JSON text (a CLI -c/-t argument, a request body). Fails with a
// one-line message on invalid JSON, on nesting deeper than 64, or when
// `require_object` is set and the value is not an object.

Status ParseJson(std::string_view text, bool require_object, Json* out);

// Appends `s` as a quoted JSON string to `out`.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace dwfs

#endif  // DWFS_JSON_H_
