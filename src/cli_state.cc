// Placeholder: stored-state leaves of dags and tasks (being written).
#include "cli.h"

namespace dwfs {

void AddStateCommands(CLI::App*, CliAction*) {}

}  // namespace dwfs
