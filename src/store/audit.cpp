// The audit log of administrative actions.
#include "herald/store/audit.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInsertAudit =
    "INSERT INTO herald.audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4::jsonb)";

}  // namespace

void audit(Database& db, std::string_view actor, std::string_view action, std::string_view target,
           const Json& detail) {
  const std::string detail_text = detail.is_null() ? "{}" : detail.dump();
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);  // one statement: autocommit is its transaction
    n.exec_params(kInsertAudit, std::string(actor), std::string(action), std::string(target), detail_text);
  });
}

}  // namespace herald::store
