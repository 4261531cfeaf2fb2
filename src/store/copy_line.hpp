// Store-internal: rows of COPY's text format, built in a reused buffer. Fields are
// separated by tabs; backslash, tab, newline and carriage return are escaped; \N is null.
// Intake writes every message this way: escaping a span at a time instead of a character at
// a time, with no temporary strings per field.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

namespace herald::store {

class CopyLine {
 public:
  CopyLine& text(std::string_view s) {
    separate();
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char escaped = escape_of(s[i]);
      if (!escaped) continue;
      line_.append(s.data() + start, i - start);
      line_ += '\\';
      line_ += escaped;
      start = i + 1;
    }
    line_.append(s.data() + start, s.size() - start);
    return *this;
  }
  CopyLine& null() {
    separate();
    line_ += "\\N";
    return *this;
  }
  CopyLine& text_or_null(std::string_view s, bool present) { return present ? text(s) : null(); }
  CopyLine& integer(long long v) {
    separate();
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    line_.append(buf, end);
    return *this;
  }
  CopyLine& boolean(bool v) {
    separate();
    line_ += v ? 't' : 'f';
    return *this;
  }

  // The row without its line end (the writer adds it).
  const std::string& str() const { return line_; }
  void clear() {
    line_.clear();
    fields_ = 0;
  }

 private:
  static char escape_of(char c) {
    switch (c) {
      case '\\': return '\\';
      case '\t': return 't';
      case '\n': return 'n';
      case '\r': return 'r';
      default: return 0;
    }
  }
  void separate() {
    if (fields_++) line_ += '\t';
  }

  std::string line_;
  int fields_ = 0;
};

// A COPY ... FROM STDIN that takes rows as CopyLine builds them. libpqxx 6.4 offers raw rows
// only through tablewriter, which it marks deprecated in favour of stream_to; stream_to
// escapes every field itself, a character at a time, and was the larger part of intake's
// client time. tablewriter's warning about multibyte encodings concerns its own escaping,
// which is not used here; CopyLine escapes only ASCII bytes, which never occur inside a UTF-8
// sequence.
//
// Rows are handed to libpq in chunks of about 256 kB rather than one by one: COPY's data is a
// byte stream whose messages need not end at row boundaries, and each hand-over costs a copy
// of the data in libpqxx and, every 8 kB, a send() in libpq.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
class CopyWriter {
 public:
  static constexpr std::size_t kChunkBytes = 256 * 1024;

  CopyWriter(pqxx::transaction_base& t, const std::string& table, const std::vector<std::string>& columns)
      : writer_(t, table, columns.begin(), columns.end()) {
    chunk_.reserve(kChunkBytes + 4096);
  }
  void write(const CopyLine& line) {
    chunk_ += line.str();
    chunk_ += '\n';
    if (chunk_.size() >= kChunkBytes) flush();
  }
  void complete() {
    flush();
    writer_.complete();
  }

 private:
  // libpqxx ends what it is given with a newline of its own: the chunk's last one is left off.
  void flush() {
    if (chunk_.empty()) return;
    chunk_.pop_back();
    writer_.write_raw_line(chunk_);
    chunk_.clear();
  }

  pqxx::tablewriter writer_;
  std::string chunk_;
};
#pragma GCC diagnostic pop

}  // namespace herald::store
