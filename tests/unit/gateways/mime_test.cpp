// MIME building for the smtp gateway: headers, one-click unsubscribe, parts, quoted-printable,
// RFC 2047 subjects, SMTP reply classification. No network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "herald/gateways/smtp.hpp"
#include "gateway_fixtures.hpp"

namespace herald::gateways {
namespace {

using test::utc;

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

SmtpSettings settings() {
  SmtpSettings s;
  s.url = "smtp://127.0.0.1:2525";
  s.from = "billing@power.example.com";
  s.from_name = "City Power";
  return s;
}

OutboundMessage email() {
  OutboundMessage m;
  m.id = 7;
  m.channel = Channel::email;
  m.to = "ada@example.com";
  m.subject = "Your bill is ready";
  m.body = "Hello Ada,\nyour bill of $42.10 is due on 2024-02-01.\n";
  m.html = "<p>Hello Ada,</p><p>your bill of <b>$42.10</b> is due.</p>";
  m.unsubscribe_url = "https://herald.example.com/v1/unsubscribe/abc.def";
  m.idempotency_key = "herald-7";
  return m;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\r\n", start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

int hex(char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'A' + 10; }

std::string qp_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=' && text.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;  // soft break
    } else if (text[i] == '=') {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (text.compare(i, 2, "\r\n") == 0) {
      out += '\n';
      i += 1;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0, value = 0;
  for (char c : in) {
    if (c == '=') break;
    value = (value << 6) | static_cast<int>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xFF);
    }
  }
  return out;
}

// Decodes a header value made of "=?UTF-8?B?...?=" words separated by folding white space.
std::string decode_encoded_words(const std::string& value) {
  std::string out;
  std::size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    auto end = value.find("?=", pos + 10);
    out += base64_decode(value.substr(pos + 10, end - pos - 10));
    pos = end + 2;
  }
  return out;
}

struct ParsedMessage {
  std::map<std::string, std::string> headers;  // unfolded, first occurrence
  std::string body;
};

ParsedMessage parse(const std::string& message) {
  ParsedMessage p;
  auto split = message.find("\r\n\r\n");
  std::string head = message.substr(0, split);
  p.body = message.substr(split + 4);
  std::string last;
  for (const auto& line : split_lines(head)) {
    if (!line.empty() && line[0] == ' ') {
      p.headers[last] += "\r\n" + line;
      continue;
    }
    auto colon = line.find(':');
    last = line.substr(0, colon);
    if (!p.headers.count(last)) p.headers[last] = line.substr(colon + 2);
  }
  return p;
}

TEST(MimeMessage, HasTheRfc5322HeadersAndAStableMessageId) {
  const std::string text = build_mime_message(settings(), email(), utc(2024, 1, 2, 15, 4, 5));
  ParsedMessage m = parse(text);
  EXPECT_EQ(m.headers["From"], "\"City Power\" <billing@power.example.com>");
  EXPECT_EQ(m.headers["To"], "ada@example.com");
  EXPECT_EQ(m.headers["Subject"], "Your bill is ready");
  EXPECT_EQ(m.headers["Date"], "Tue, 02 Jan 2024 15:04:05 +0000");
  EXPECT_EQ(m.headers["Message-ID"], "<herald-7@power.example.com>");
  EXPECT_EQ(m.headers["MIME-Version"], "1.0");
  EXPECT_EQ(text, build_mime_message(settings(), email(), utc(2024, 1, 2, 15, 4, 5)));
}

TEST(MimeMessage, CarriesOneClickListUnsubscribeWhenAnUrlIsGiven) {
  ParsedMessage m = parse(build_mime_message(settings(), email(), utc(2024, 1, 2, 0, 0, 0)));
  EXPECT_EQ(m.headers["List-Unsubscribe"], "<https://herald.example.com/v1/unsubscribe/abc.def>");
  EXPECT_EQ(m.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");

  OutboundMessage without = email();
  without.unsubscribe_url.clear();
  ParsedMessage plain = parse(build_mime_message(settings(), without, utc(2024, 1, 2, 0, 0, 0)));
  EXPECT_EQ(plain.headers.count("List-Unsubscribe"), 0u);
  EXPECT_EQ(plain.headers.count("List-Unsubscribe-Post"), 0u);
}

TEST(MimeMessage, IsMultipartAlternativeWithPlainThenHtml) {
  const OutboundMessage msg = email();
  ParsedMessage m = parse(build_mime_message(settings(), msg, utc(2024, 1, 2, 0, 0, 0)));
  const std::string& content_type = m.headers["Content-Type"];
  ASSERT_THAT(content_type, StartsWith("multipart/alternative; boundary=\""));
  const std::string boundary = content_type.substr(content_type.find('"') + 1,
                                                   content_type.rfind('"') - content_type.find('"') - 1);
  const std::string delimiter = "\r\n--" + boundary;

  std::string body = "\r\n" + m.body;
  std::vector<std::string> parts;
  std::size_t pos = body.find(delimiter);
  ASSERT_NE(pos, std::string::npos);
  while (true) {
    std::size_t start = pos + delimiter.size();
    if (body.compare(start, 2, "--") == 0) break;  // closing delimiter
    std::size_t next = body.find(delimiter, start);
    ASSERT_NE(next, std::string::npos) << "unterminated multipart";
    parts.push_back(body.substr(start + 2, next - start - 2));
    pos = next;
  }
  ASSERT_EQ(parts.size(), 2u);
  ParsedMessage plain = parse(parts[0]);
  ParsedMessage html = parse(parts[1]);
  EXPECT_EQ(plain.headers["Content-Type"], "text/plain; charset=UTF-8");
  EXPECT_EQ(plain.headers["Content-Transfer-Encoding"], "quoted-printable");
  EXPECT_EQ(html.headers["Content-Type"], "text/html; charset=UTF-8");
  EXPECT_EQ(qp_decode(plain.body), msg.body);
  EXPECT_EQ(qp_decode(html.body), msg.html);
}

TEST(MimeMessage, WithoutHtmlIsASinglePlainPart) {
  OutboundMessage msg = email();
  msg.html.clear();
  ParsedMessage m = parse(build_mime_message(settings(), msg, utc(2024, 1, 2, 0, 0, 0)));
  EXPECT_EQ(m.headers["Content-Type"], "text/plain; charset=UTF-8");
  EXPECT_EQ(qp_decode(m.body).substr(0, msg.body.size()), msg.body);
}

TEST(MimeMessage, NonAsciiSubjectAndSenderNameUseEncodedWords) {
  SmtpSettings s = settings();
  s.from_name = "Électricité de Ville";
  OutboundMessage msg = email();
  msg.subject = "Votre facture d’électricité est prête — montant dû: 42,10 € (échéance le 1er février)";
  const std::string text = build_mime_message(s, msg, utc(2024, 1, 2, 0, 0, 0));
  ParsedMessage m = parse(text);
  EXPECT_THAT(m.headers["Subject"], StartsWith("=?UTF-8?B?"));
  EXPECT_EQ(decode_encoded_words(m.headers["Subject"]), msg.subject);
  EXPECT_EQ(decode_encoded_words(m.headers["From"]), s.from_name);
  EXPECT_THAT(m.headers["From"], HasSubstr(" <billing@power.example.com>"));
  for (const auto& line : split_lines(text.substr(0, text.find("\r\n\r\n")))) {
    EXPECT_LE(line.size(), 76u) << line;
    for (unsigned char c : line) EXPECT_LT(c, 128) << line;
  }
}

TEST(MimeMessage, LineBreaksInHeaderValuesCannotInjectHeaders) {
  OutboundMessage msg = email();
  msg.subject = "Hi\r\nBcc: victim@example.com";
  msg.to = "ada@example.com\nBcc: other@example.com";
  const std::string text = build_mime_message(settings(), msg, utc(2024, 1, 2, 0, 0, 0));
  for (const auto& line : split_lines(text.substr(0, text.find("\r\n\r\n")))) {
    EXPECT_THAT(line, Not(StartsWith("Bcc")));
  }
}

TEST(QuotedPrintable, KeepsLinesWithin76CharactersAndRoundTrips) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "Ünïcödé and plain words with = signs, tabs\tand spaces ";
  text += "\n.leading dot\nFrom the start\ntrailing space \nend";
  const std::string encoded = quoted_printable_encode(text);
  for (const auto& line : split_lines(encoded)) {
    EXPECT_LE(line.size(), 76u);
    EXPECT_NE(line.back(), ' ');
    EXPECT_NE(line.front(), '.');
    EXPECT_THAT(line, Not(StartsWith("From ")));
    for (unsigned char c : line) EXPECT_TRUE(c == '\t' || (c >= 32 && c < 127)) << line;
  }
  EXPECT_EQ(qp_decode(encoded), text);
}

TEST(QuotedPrintable, EncodesEqualsAndNonAsciiBytes) {
  EXPECT_EQ(quoted_printable_encode("a=b"), "a=3Db");
  EXPECT_EQ(quoted_printable_encode("é"), "=C3=A9");
  EXPECT_EQ(quoted_printable_encode("x \r\ny"), "x=20\r\ny");
}

TEST(SmtpRequest, EnvelopeUsesTheSenderAndTheRecipient) {
  SmtpSettings s = settings();
  s.username = "herald";
  s.password = "secret";
  s.starttls = StartTls::required;
  SmtpRequest r = build_smtp_request(s, email(), utc(2024, 1, 2, 0, 0, 0));
  EXPECT_EQ(r.url, "smtp://127.0.0.1:2525");
  EXPECT_EQ(r.mail_from, "billing@power.example.com");
  EXPECT_EQ(r.recipients, std::vector<std::string>{"ada@example.com"});
  EXPECT_EQ(r.starttls, StartTls::required);
  EXPECT_EQ(r.username, "herald");
  EXPECT_EQ(r.message, build_mime_message(s, email(), utc(2024, 1, 2, 0, 0, 0)));
}

TEST(SmtpReply, TransientRefusalIsRetryPermanentIsFailed) {
  EXPECT_EQ(classify_smtp_result(true, 250, "250 OK").outcome, SendOutcome::sent);
  SendResult busy = classify_smtp_result(false, 451, "451 4.3.0 try again later");
  EXPECT_EQ(busy.outcome, SendOutcome::retry);
  EXPECT_EQ(busy.error_code, "smtp_451");
  SendResult unknown = classify_smtp_result(false, 550, "550 5.1.1 mailbox unavailable");
  EXPECT_EQ(unknown.outcome, SendOutcome::failed);
  EXPECT_EQ(unknown.error_code, "smtp_550");
  EXPECT_EQ(unknown.detail, "550 5.1.1 mailbox unavailable");
  EXPECT_EQ(classify_smtp_result(false, 535, "535 5.7.8 bad credentials").outcome, SendOutcome::retry);
  EXPECT_EQ(classify_smtp_result(false, 0, "").outcome, SendOutcome::retry);
}

}  // namespace
}  // namespace herald::gateways
