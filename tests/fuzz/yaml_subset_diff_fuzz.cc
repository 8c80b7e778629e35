// Differential fuzz target: whatever YamlTree::ParseSubset accepts,
// ParseYamlCpp must parse to the same tree. Aborts on the first difference.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../yaml_tree_compare.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string why = dwfs::SubsetDisagreement(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!why.empty()) {
    std::fprintf(stderr, "%s\n", why.c_str());
    std::abort();
  }
  return 0;
}
