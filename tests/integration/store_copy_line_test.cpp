// COPY text rows built by CopyLine arrive in Postgres exactly as given, whatever they contain.
#include "store/copy_line.hpp"

#include <gtest/gtest.h>

#include "store/pg.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

TEST(CopyLine, EscapesSeparatorsAndBackslashes) {
  CopyLine line;
  line.text("a\tb").null().text("c\\N\nd\r").integer(-42).boolean(true).text("");
  EXPECT_EQ(line.str(), "a\\tb\t\\N\tc\\\\N\\nd\\r\t-42\tt\t");
  line.clear();
  line.text("again");
  EXPECT_EQ(line.str(), "again");
}

TEST(CopyLine, RoundTripsThroughARealCopy) {
  test::TestDb t;
  t.exec("CREATE TABLE copied (id bigint, body text, flag boolean, note text)");
  const std::vector<std::string> bodies = {"plain", "tab\there", "line\nbreak\r\n", "back\\slash \\N", "",
                                           "Factura lista: $82.17 — ¿pagar? ✓"};
  in_transaction(t.db(), [&](pqxx::work& w) {
    CopyWriter copy(w, "copied", {"id", "body", "flag", "note"});
    CopyLine line;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      line.clear();
      line.integer(static_cast<long long>(i)).text(bodies[i]).boolean(i % 2 == 0).text_or_null("note", i % 2 == 1);
      copy.write(line);
    }
    copy.complete();
  });
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const auto id = std::to_string(i);
    EXPECT_EQ(t.query_value("SELECT body FROM copied WHERE id = " + id), bodies[i]) << i;
    EXPECT_EQ(t.query_value("SELECT flag::text FROM copied WHERE id = " + id), i % 2 == 0 ? "true" : "false");
    EXPECT_EQ(t.query_value("SELECT note IS NULL FROM copied WHERE id = " + id), i % 2 == 1 ? "f" : "t");
  }
}

// Rows go to libpq in chunks (CopyWriter::kChunkBytes): rows on both sides of a chunk's end,
// and a last chunk that is not full, all arrive whole.
TEST(CopyLine, RowsSpanningSeveralChunksArriveWhole) {
  test::TestDb t;
  t.exec("CREATE TABLE copied (id bigint, body text)");
  const std::size_t rows = 3 * CopyWriter::kChunkBytes / 500 + 7;
  auto body = [](std::size_t i) { return std::string(480 + i % 37, static_cast<char>('a' + i % 26)) + "\t" + std::to_string(i); };
  in_transaction(t.db(), [&](pqxx::work& w) {
    CopyWriter copy(w, "copied", {"id", "body"});
    CopyLine line;
    for (std::size_t i = 0; i < rows; ++i) {
      line.clear();
      line.integer(static_cast<long long>(i)).text(body(i));
      copy.write(line);
    }
    copy.complete();
  });
  EXPECT_EQ(t.query_value("SELECT count(*) FROM copied"), std::to_string(rows));
  std::size_t mismatched = 0;
  for (std::size_t i = 0; i < rows; i += 97)
    if (t.query_value("SELECT body FROM copied WHERE id = " + std::to_string(i)) != body(i)) ++mismatched;
  EXPECT_EQ(mismatched, 0u);
  EXPECT_EQ(t.query_value("SELECT body FROM copied WHERE id = " + std::to_string(rows - 1)), body(rows - 1));
  EXPECT_EQ(t.query_value("SELECT sum(length(body)) FROM copied"), [&] {
    std::size_t total = 0;
    for (std::size_t i = 0; i < rows; ++i) total += body(i).size();
    return std::to_string(total);
  }());
}

}  // namespace
}  // namespace herald::store
