// Postgres array literals, the text form of an array parameter ($1::text[], $2::bigint[]):
// {"a","b\"c",NULL}, {1,2}. Every text element is quoted, so any value reads back as itself.
// Included only by src/store/*.cpp.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace herald::store {

class ArrayLiteral {
 public:
  ArrayLiteral& text(std::string_view s) {
    next();
    out_ += '"';
    for (const char c : s) {
      if (c == '\0') continue;  // Postgres text cannot hold one (and the parameter would end there)
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
    return *this;
  }
  ArrayLiteral& null() {
    next();
    out_ += "NULL";
    return *this;
  }
  // "" is NULL: the text columns whose absence is NULL.
  ArrayLiteral& text_or_null(std::string_view s) { return s.empty() ? null() : text(s); }
  ArrayLiteral& boolean(bool b) {
    next();
    out_ += b ? 't' : 'f';
    return *this;
  }
  template <std::integral T>
  ArrayLiteral& number(T n) {
    next();
    out_ += std::to_string(n);
    return *this;
  }
  std::string str() const { return out_ + '}'; }

 private:
  void next() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_ = "{";
};

inline std::string text_array(const std::vector<std::string>& items) {
  ArrayLiteral a;
  for (const auto& s : items) a.text(s);
  return a.str();
}

template <std::integral T>
std::string number_array(const std::vector<T>& items) {
  ArrayLiteral a;
  for (const auto n : items) a.number(n);
  return a.str();
}

}  // namespace herald::store
