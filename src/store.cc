// Placeholder until the PostgreSQL store lands.
#include "dwfs/store.h"

namespace dwfs {

Status Store::Open(const std::string&, std::unique_ptr<Store>*) {
  return Status::FailedPrecondition("the metadata store is not built yet");
}

Status StoreConnectionSource::Get(const std::string& conn_id, Connection*) const {
  return Status::NotFound("connection '" + conn_id + "' not found");
}

}  // namespace dwfs
