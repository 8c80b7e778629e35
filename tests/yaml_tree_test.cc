// The fast YAML subset parser against yaml-cpp on every YAML text in the
// repository (example DAGs, the bad-DAG corpus, the fuzz corpus) and on
// hand-picked edge cases: it must decline or agree exactly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "yaml_tree_compare.h"

namespace dwfs {
namespace {

TEST(YamlTreeTest, SubsetParserAgreesWithYamlCppOnEveryRepositoryFile) {
  int files = 0, accepted = 0;
  for (const char* dir : {"dags", "tests/data/bad_dags", "tests/fuzz/corpus"}) {
    std::filesystem::path root = std::filesystem::path(DWFS_SOURCE_DIR) / dir;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      ++files;
      YamlTree t;
      if (t.ParseSubset(ss.str())) ++accepted;
      EXPECT_EQ(SubsetDisagreement(ss.str()), "") << e.path();
    }
  }
  EXPECT_GT(files, 100);
  EXPECT_GT(accepted, 5);  // the examples take the fast path
}

TEST(YamlTreeTest, EdgeCasesDeclineOrAgree) {
  for (const char* text : {
           "a: 1\n", "a: 'x'\n", "a: \"x\"\n", "a: [1, 2]\n", "a: {b: c}\n", "a: |\n  x\n  y\n", "a: >-\n  x\n\n  y\n",
           "a:\n- 1\n- 2\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a:\n", "a: 'it''s'\n", "a: \"\\t\"\n",
           "a: b # c\n", "a: b#c\n", "a:\tb\n", "? a\n: b\n", "a: 1\n---\nb: 2\n", "- a\n- b: c\n  d: e\n",
           "a: -1\n", "a: ~\n", "a: null\n", "a: yes\n", "'a b': c\n", "a: b: c\n", "a: [\n", "a: 'x\n",
           "  a: 1\n b: 2\n", "a: |+\n  x\n\n", "a: >\n  folded\n  text\n", "\xef\xbb\xbf" "a: 1\n", "a: é\n",
       }) {
    EXPECT_EQ(SubsetDisagreement(text), "") << text;
  }
}

}  // namespace
}  // namespace dwfs
