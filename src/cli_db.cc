// Placeholder: db, connections and variables commands (being written).
#include "cli.h"

namespace dwfs {

void AddDbCommands(CLI::App*, CliAction*) {}

}  // namespace dwfs
