// Migrations: the metadata database's schema, compiled into the binary as
// forward-only SQL steps numbered 1..SchemaVersion(). The table
// dwfs_schema(version, applied_at) records the steps applied.
//
// Contracts:
// - Each step runs in its own transaction; the whole upgrade holds a
//   session-level pg_advisory_lock, so several processes migrating one
//   database at once are safe (the later ones find nothing to do).
// - Errors are one line naming the step or the operation; the URL (which
//   may hold a password) never appears in a message.
// - Stateless free functions: thread-safe (each call opens its own
//   connection).
#ifndef DWFS_MIGRATIONS_H_
#define DWFS_MIGRATIONS_H_

#include <string>

#include "dwfs/status.h"

namespace dwfs {

// The schema version this binary needs (the number of migrations).
int SchemaVersion();

// Creates or upgrades the schema at `url` to SchemaVersion(). Idempotent.
// *from / *to (either may be null) get the versions before and after.
// IOError when the database is unreachable; FailedPrecondition when the
// database is newer than this binary.
Status MigrateDatabase(const std::string& url, int* from, int* to);

// The database's schema version (0 = an empty database). IOError when it
// is unreachable.
Status DatabaseSchemaVersion(const std::string& url, int* version);

// Drops every dwfs table (and the version table), then migrates again.
// Destroys all metadata: for `dwfs db reset` and tests.
Status ResetDatabase(const std::string& url);

}  // namespace dwfs

#endif  // DWFS_MIGRATIONS_H_
