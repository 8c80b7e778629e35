// Runs the dwfs command line in-process for tests.
#ifndef DWFS_TESTS_CLI_TEST_UTIL_H_
#define DWFS_TESTS_CLI_TEST_UTIL_H_

#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"

namespace dwfs {

struct CliResult {
  int code;
  std::string out, err;
};

// `dwfs args...` with exactly `env` as the process environment.
inline CliResult RunCliForTest(std::vector<std::string> args, const std::map<std::string, std::string>& env) {
  args.insert(args.begin(), "dwfs");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  int code = RunCli(int(argv.size()), argv.data(), env, out, err);
  return {code, out.str(), err.str()};
}

// The same with `input` as std::cin (for commands that ask [y/N]).
inline CliResult RunCliForTestWithInput(std::vector<std::string> args, const std::map<std::string, std::string>& env,
                                        const std::string& input) {
  std::istringstream in(input);
  std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
  CliResult r = RunCliForTest(std::move(args), env);
  std::cin.rdbuf(saved);
  return r;
}

}  // namespace dwfs

#endif  // DWFS_TESTS_CLI_TEST_UTIL_H_
