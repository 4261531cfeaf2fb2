// RFC 4180 CSV writer.
#include "herald/http/csv.hpp"

namespace herald::http {

std::string csv_field(std::string_view value) {
  std::string v(value);
  if (!v.empty() && (v.front() == '=' || v.front() == '+' || v.front() == '-' || v.front() == '@')) {
    // A plain number such as "-3" stays as it is.
    bool numeric = v.size() > 1 && v.find_first_not_of("0123456789.", 1) == std::string::npos && v.front() == '-';
    if (!numeric) v.insert(v.begin(), '\'');
  }
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string to_csv(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += csv_field(cells[i]);
    }
    out += "\r\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

}  // namespace herald::http
