// Store-internal: SQL shared by the statements that read the dispatch queue's leases.
#pragma once

#include <string>

namespace herald::store {

// The one definition of a queue row free to take at `at` (an SQL timestamptz expression):
// never leased, or its lease lapsed (0026; lease_owner and leased_until are set and cleared
// together). `row` qualifies the column: "q." or "" for an unaliased herald.message_queue.
// Every statement that takes, cancels or counts waiting rows uses it, so they agree on which
// rows a dispatch in flight still holds.
inline std::string queue_row_free(const std::string& row, const std::string& at) {
  return "(" + row + "leased_until IS NULL OR " + row + "leased_until <= " + at + ")";
}

}  // namespace herald::store
