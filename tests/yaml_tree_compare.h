// Compares the fast subset parser of YamlTree with the yaml-cpp path: what
// ParseSubset accepts must give the same tree (shape, scalars, quoting,
// lines) as ParseYamlCpp. Shared by yaml_tree_test.cc and the differential
// fuzz target tests/fuzz/yaml_subset_diff_fuzz.cc.
#ifndef DWFS_TESTS_YAML_TREE_COMPARE_H_
#define DWFS_TESTS_YAML_TREE_COMPARE_H_

#include <string>
#include <string_view>

#include "yaml_tree.h"

namespace dwfs {

inline bool SameYamlTree(YamlNode a, YamlNode b, int depth = 0) {
  if (depth > 40) return true;
  if (a.IsDefined() != b.IsDefined() || a.IsNull() != b.IsNull() || a.IsScalar() != b.IsScalar() ||
      a.IsSequence() != b.IsSequence() || a.IsMap() != b.IsMap() || a.Line() != b.Line()) {
    return false;
  }
  if (a.IsScalar()) return a.Scalar() == b.Scalar() && a.IsQuoted() == b.IsQuoted();
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.IsSequence() && !SameYamlTree(a.Item(i), b.Item(i), depth + 1)) return false;
    if (a.IsMap() && (!SameYamlTree(a.Key(i), b.Key(i), depth + 1) ||
                      !SameYamlTree(a.Value(i), b.Value(i), depth + 1))) {
      return false;
    }
  }
  return true;
}

// "" when the subset parser declines `text` or agrees with yaml-cpp;
// otherwise what went wrong.
inline std::string SubsetDisagreement(std::string_view text) {
  YamlTree fast;
  if (!fast.ParseSubset(text)) return "";
  YamlTree slow;
  int line = 0;
  std::string message;
  if (!slow.ParseYamlCpp(text, &line, &message)) {
    return "yaml-cpp rejects what the subset accepts: " + std::to_string(line) + ": " + message;
  }
  return SameYamlTree(fast.root(), slow.root()) ? "" : "the trees differ";
}

}  // namespace dwfs

#endif  // DWFS_TESTS_YAML_TREE_COMPARE_H_
