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
#include "fuzz_check.h"

namespace {


void CheckRoundTrip(const dwfs::Json& j, int indent) {
  const std::string dump = j.Dump(indent);
  dwfs::Json again;
  const dwfs::Status st = dwfs::ParseJson(dump, false, &again);
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str());
  FUZZ_CHECK(st.ok());
  FUZZ_CHECK(again.Dump(indent) == dump);
  FUZZ_CHECK(again.Dump() == j.Dump());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks require_object so both modes get covered.
  const bool require_object = size > 0 && (data[0] & 1) == 0;
  dwfs::Json j = dwfs::Json("untouched");
  const dwfs::Status st = dwfs::ParseJson(text, require_object, &j);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == dwfs::Status::Code::kInvalidArgument);
    const std::string& msg = st.message();
    FUZZ_CHECK(msg.rfind("invalid JSON: ", 0) == 0);
    FUZZ_CHECK(msg.find('\n') == std::string::npos);
    FUZZ_CHECK(msg.size() < 200);
    FUZZ_CHECK(j.type() == dwfs::Json::Type::kString && j.str() == "untouched");
    return 0;
  }
  if (require_object) FUZZ_CHECK(j.type() == dwfs::Json::Type::kObject);
  CheckRoundTrip(j, 0);
  CheckRoundTrip(j, 2);
  return 0;
}
