// Helpers shared by the store and the migrations: see store_internal.h.
#include "store_internal.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "dwfs/connection.h"

namespace dwfs::store_internal {
namespace {

void ReplaceAll(std::string* text, const std::string& secret) {
  if (secret.empty()) return;
  size_t pos = 0;
  while ((pos = text->find(secret, pos)) != std::string::npos) {
    text->replace(pos, secret.size(), "***");
    pos += 3;
  }
}

// Secrets found without a full URI parse: the userinfo password of a URI
// and the values of password=... in a URI query or a keyword/value string.
std::vector<std::string> RoughSecrets(const std::string& url) {
  std::vector<std::string> out;
  size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t slash = url.find('/', start);
    size_t at = url.rfind('@', slash == std::string::npos ? url.size() : slash);
    if (at != std::string::npos && at >= start) {
      size_t colon = url.find(':', start);
      if (colon != std::string::npos && colon < at) out.push_back(url.substr(colon + 1, at - colon - 1));
    }
  }
  for (size_t pos = url.find("password="); pos != std::string::npos; pos = url.find("password=", pos + 1)) {
    size_t begin = pos + 9;
    size_t end = url.find_first_of(" &'", begin);
    out.push_back(url.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
  }
  return out;
}

}  // namespace

std::string MaskUrlSecrets(const std::string& message, const std::string& url) {
  std::string text = message;
  Connection c;
  std::vector<std::string> secrets = RoughSecrets(url);
  if (ParseConnectionUri("metadata", url, &c).ok()) {
    for (const std::string& s : ConnectionSecrets(c)) secrets.push_back(s);
  }
  // Longest first, so a secret containing another is masked whole.
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& s : secrets) ReplaceAll(&text, s);
  return text;
}

std::string OneLine(const std::string& message) {
  size_t pos = 0;
  std::string line;
  while (pos <= message.size()) {
    size_t nl = message.find('\n', pos);
    std::string candidate = message.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    size_t b = candidate.find_first_not_of(" \t\r");
    if (b != std::string::npos) {
      line = candidate.substr(b);
      break;
    }
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  for (const char* severity : {"ERROR:", "FATAL:", "PANIC:"}) {
    std::string s = severity;
    if (line.compare(0, s.size(), s) == 0) {
      line.erase(0, s.size());
      break;
    }
  }
  size_t b = line.find_first_not_of(" \t");
  size_t e = line.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string("unknown error") : line.substr(b, e - b + 1);
}

Status Connect(const std::string& url, std::unique_ptr<pqxx::connection>* out) {
  try {
    auto conn = std::make_unique<pqxx::connection>(url);
    pqxx::nontransaction tx(*conn);
    tx.exec("SET client_min_messages TO warning");
    *out = std::move(conn);
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::IOError("cannot connect to the metadata database: " + MaskUrlSecrets(OneLine(e.what()), url));
  }
}


std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string s = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += ',';
    s += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  s += '}';
  return s;
}

}  // namespace dwfs::store_internal

namespace dwfs::store_internal {

void WakeSchedulers(pqxx::transaction_base& tx, const std::string& dag_id, Instant now) {
  Params().Add(dag_id).Add(now).Exec(
      tx,
      "UPDATE dag SET next_dagrun_check = to_timestamp($2::float8) WHERE dag_id = $1"
      " AND (next_dagrun_check IS NULL OR next_dagrun_check > to_timestamp($2::float8))");
  Params().Add(std::string(kWakeChannel)).Add(dag_id).Exec(tx, "SELECT pg_notify($1, $2)");
}

}  // namespace dwfs::store_internal
