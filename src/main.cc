// dwfs: the single binary. Everything lives in the core library.
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) {
  return dwfs::RunCli(argc, argv, dwfs::EnvironmentMap(), std::cout, std::cerr);
}
