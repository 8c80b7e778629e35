// Placeholder: scheduler and tasks run commands (being written).
#include "cli.h"

namespace dwfs {

void AddSchedulerCommands(CLI::App*, CliAction*) {}

}  // namespace dwfs
