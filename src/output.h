// Output of listing commands: one list of JSON records rendered as a table,
// JSON (one document) or plain tab-separated lines (cli.md, -o).
#ifndef DWFS_OUTPUT_H_
#define DWFS_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "dwfs/json.h"

namespace dwfs {

enum class OutputFormat { kTable, kJson, kPlain };

// "table", "json" or "plain"; false otherwise.
bool ParseOutputFormat(const std::string& name, OutputFormat* out);

// Prints `records` (a JSON array of objects). JSON prints every key; table
// and plain print `columns` (all keys when empty). Table cells render null
// as "None", arrays comma-joined; plain prints cells tab-separated without
// a header.
void PrintRecords(const Json& records, const std::vector<std::string>& columns, OutputFormat format,
                  std::ostream& out);

// The text of one cell.
std::string CellText(const Json& v);

}  // namespace dwfs

#endif  // DWFS_OUTPUT_H_
