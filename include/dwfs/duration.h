// Durations of the DAG file format: an integer is seconds; a string is one
// or more <number><unit> parts, unit s, m, h, d or w ("30s", "1h30m", "2d").
#ifndef DWFS_DURATION_H_
#define DWFS_DURATION_H_

#include <string>
#include <string_view>

#include "dwfs/status.h"
#include "dwfs/time_util.h"

namespace dwfs {

// Parses a duration string. Accepts a bare non-negative integer (seconds) and
// the unit forms; rejects empty text, unknown units, signs, fractions,
// repeated spaces inside, and totals over 100 years. The error quotes `text`.
Status ParseDuration(std::string_view text, Seconds* out);

// The shortest unit form: 90 -> "1m30s", 0 -> "0s", 86400 -> "1d".
std::string FormatDuration(Seconds d);

}  // namespace dwfs

#endif  // DWFS_DURATION_H_
