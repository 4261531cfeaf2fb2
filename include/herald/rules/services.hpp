// The service keywords' pure parts: their reply texts per language (balance, payment, outage
// report and status, registration) and reading a registration reply. No I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace herald::rules {

// Placeholders, filled by fill_text: {utility}, {phone}, {url} everywhere; {account} (masked,
// ****1001), {address} (the service address's first line), {amount}, {due_date}, {card},
// {confirmation}, {reason}, {reference}, {status}, {etr} where the text says.
struct ServiceTexts {
  std::string balance;           // BAL: {amount} due {due_date}
  std::string balance_no_date;   // BAL when the bill names no due date
  std::string balance_none;      // BAL with no bill on file
  std::string pay_confirm;       // PAY: "Reply Y to pay {amount} with the card ending {card}..."
  std::string pay_nothing_due;   // PAY when nothing is owed
  std::string paid;              // the CIS authorized the payment: {amount}, {card}, {confirmation}
  std::string pay_declined;      // the CIS refused it: {reason}
  std::string pay_unavailable;   // no CIS configured: payment by text is not offered
  std::string cis_down;          // the CIS did not answer: "We couldn't process that right now…"
  std::string outage_reported;   // OUT: {reference}, {address}
  std::string outage_known;      // STATUS with an outage at the premise: {status}, {etr}
  std::string outage_known_no_etr;
  std::string no_outage;         // STATUS: "no known outage at {address}"
  std::string unknown_number;    // a keyword that needs an account from a number with none
  std::string reg_ask;           // REG: asks for the account number and service ZIP
  std::string reg_not_understood;
  std::string reg_no_match;      // the account number and ZIP do not belong together
  std::string reg_done;          // {account}, {address}
};

struct ServiceReplies {
  std::map<std::string, ServiceTexts> languages;  // "en" and "es" built in
};

ServiceReplies default_service_replies();

// The texts of `language`, else its primary subtag, else default_language, else English; a
// text left empty falls back the same way, text by text.
ServiceTexts service_texts_for(const ServiceReplies& replies, std::string_view language,
                               std::string_view default_language);

// "****1001" for "A-1001": the last four characters that are letters or digits.
std::string mask_account(std::string_view account_id);

// A registration reply: the account number and the service ZIP, in either order, separated by
// spaces or a comma ("A-1001 62701", "62701, 1001-22"). The ZIP is five digits (ZIP+4 is cut
// to five). nullopt when the text is not exactly those two things.
struct RegistrationReply {
  std::string account_id, zip;
};
std::optional<RegistrationReply> parse_registration_reply(std::string_view text);

}  // namespace herald::rules
