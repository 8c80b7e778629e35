// libFuzzer target for ParseJson and Json::Dump.
//
// Every input is parsed. Rejections must be one-line InvalidArgument
// messages starting "invalid JSON: " that leave the output untouched.
// Accepted documents are dumped (compact and pretty), the dumps re-parsed,
// and the re-parsed value must dump to the identical text: Dump is a fixed
// point of parse-then-dump. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dwfs/json.h"

namespace {

#define JSON_CHECK(cond)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                  \
      std::abort();                                                         \
    }                                                                       \
  } while (0)

void CheckRoundTrip(const dwfs::Json& j, int indent) {
  const std::string dump = j.Dump(indent);
  dwfs::Json again;
  const dwfs::Status st = dwfs::ParseJson(dump, false, &again);
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str());
  JSON_CHECK(st.ok());
  JSON_CHECK(again.Dump(indent) == dump);
  JSON_CHECK(again.Dump() == j.Dump());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks require_object so both modes get covered.
  const bool require_object = size > 0 && (data[0] & 1) == 0;
  dwfs::Json j = dwfs::Json("untouched");
  const dwfs::Status st = dwfs::ParseJson(text, require_object, &j);
  if (!st.ok()) {
    JSON_CHECK(st.code() == dwfs::Status::Code::kInvalidArgument);
    const std::string& msg = st.message();
    JSON_CHECK(msg.rfind("invalid JSON: ", 0) == 0);
    JSON_CHECK(msg.find('\n') == std::string::npos);
    JSON_CHECK(msg.size() < 200);
    JSON_CHECK(j.type() == dwfs::Json::Type::kString && j.str() == "untouched");
    return 0;
  }
  if (require_object) JSON_CHECK(j.type() == dwfs::Json::Type::kObject);
  CheckRoundTrip(j, 0);
  CheckRoundTrip(j, 2);
  return 0;
}
