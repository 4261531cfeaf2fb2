// Customers in API JSON: PUT /v1/customers/{id} bodies (accounts, contacts) and the stored customer's JSON form.
#include "herald/domain/json_io.hpp"

#include <set>

#include "herald/domain/phone.hpp"
#include "herald/domain/text.hpp"

#include "json_read.hpp"

namespace herald {

using namespace json_read;

namespace {

Result<Account> parse_account(const Json& a, const std::string& field) {
  if (!a.is_object()) return wrong_type(field, "an object");
  Account account;
  if (auto err = read_required_string(a, "account_id", dotted(field, "account_id"), account.account_id, kMaxIdLength)) {
    return *err;
  }
  if (auto err = read_string(a, "premise_id", dotted(field, "premise_id"), account.premise_id, kMaxIdLength)) {
    return *err;
  }
  if (auto it = a.find("service_address"); it != a.end() && !it->is_null()) {
    std::string sa_field = dotted(field, "service_address");
    if (!it->is_object()) return wrong_type(sa_field, "an object");
    ServiceAddress& sa = account.service_address;
    const std::pair<const char*, std::string*> parts[] = {
        {"line1", &sa.line1}, {"line2", &sa.line2}, {"city", &sa.city}, {"state", &sa.state}, {"zip", &sa.zip}};
    for (const auto& [key, target] : parts) {
      if (auto err = read_string(*it, key, dotted(sa_field, key), *target)) return *err;
    }
  }
  std::string tz_field = dotted(field, "timezone");
  if (auto err = read_required_string(a, "timezone", tz_field, account.timezone, 64)) return *err;
  if (!is_known_time_zone(account.timezone)) {
    return invalid(tz_field, "invalid_timezone",
                         tz_field + " must be an IANA time zone such as \"America/Chicago\"");
  }
  if (auto err = read_string(a, "feeder", dotted(field, "feeder"), account.feeder, kMaxIdLength)) return *err;
  if (auto it = a.find("segments"); it != a.end() && !it->is_null()) {
    std::string seg_field = dotted(field, "segments");
    if (!it->is_array()) return wrong_type(seg_field, "an array of strings");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const Json& s = (*it)[i];
      if (!s.is_string()) return wrong_type(indexed(seg_field, i), "a string");
      if (auto err = reject_control_characters(s.get_ref<const std::string&>(), indexed(seg_field, i))) return *err;
      account.segments.push_back(s.get<std::string>());
    }
  }
  if (auto err = read_language(a, dotted(field, "language"), account.language)) return *err;
  return account;
}

// The last phone number normalised for a customer: its SMS and voice contacts are usually the
// same number, and libphonenumber's parse is most of the cost of reading a customer.
struct LastPhone {
  std::string input, e164;
};

Result<Contact> parse_contact(const Json& c, const std::string& field, std::string_view default_region,
                              LastPhone& last_phone) {
  if (!c.is_object()) return wrong_type(field, "an object");
  Contact contact;
  std::string channel_field = dotted(field, "channel");
  std::string channel_name;
  if (auto err = read_required_string(c, "channel", channel_field, channel_name, 16)) return *err;
  auto channel = parse_channel(channel_name);
  if (!channel) {
    return invalid(channel_field, "unknown_channel", channel_field + " must be sms, email or voice");
  }
  contact.channel = *channel;
  std::string address_field = dotted(field, "address");
  std::string address;
  if (auto err = read_required_string(c, "address", address_field, address, 256)) return *err;
  if (contact.channel == Channel::email) {
    auto email = normalize_email(address);
    if (!email) return invalid(address_field, "invalid_email", address_field + " is not an email address");
    contact.address = *email;
  } else if (!last_phone.e164.empty() && address == last_phone.input) {
    contact.address = last_phone.e164;
  } else {
    auto phone = to_e164(address, default_region);
    if (!phone) return invalid(address_field, "invalid_phone", address_field + " is not a phone number");
    contact.address = *phone;
    last_phone = {std::move(address), *phone};
  }
  // The CIS got the contact from the customer: it counts as verified (API.md).
  contact.verified = true;
  contact.source = "cis";
  return contact;
}

}  // namespace

Result<Customer> parse_customer(const Json& body, std::string_view customer_id, std::string_view default_region) {
  if (!body.is_object()) return invalid("", "invalid_type", "the body must be a JSON object");
  if (auto err = reject_control_characters(customer_id, "customer_id")) return *err;
  Customer customer;
  customer.customer_id = std::string(customer_id);
  if (auto err = read_required_string(body, "name", "name", customer.name, 256)) return *err;
  if (auto err = read_language(body, "language", customer.language)) return *err;

  if (auto it = body.find("accounts"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return wrong_type("accounts", "an array");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      std::string field = indexed("accounts", i);
      auto account = parse_account((*it)[i], field);
      if (!account) return account.error();
      if (!seen.insert(account->account_id).second) {
        return invalid(dotted(field, "account_id"), "duplicate",
                             "account " + account->account_id + " appears twice");
      }
      customer.accounts.push_back(std::move(*account));
    }
  }

  if (auto it = body.find("contacts"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return wrong_type("contacts", "an array");
    std::set<std::pair<Channel, std::string>> seen;
    LastPhone last_phone;
    for (std::size_t i = 0; i < it->size(); ++i) {
      auto contact = parse_contact((*it)[i], indexed("contacts", i), default_region, last_phone);
      if (!contact) return contact.error();
      // The same number written two ways is one contact (the store keeps one row per
      // customer, channel and address): keep the first.
      if (!seen.emplace(contact->channel, contact->address).second) continue;
      customer.contacts.push_back(std::move(*contact));
    }
  }
  return customer;
}

Result<Customer> parse_customer_item(const Json& item, std::string_view default_region) {
  if (!item.is_object()) return invalid("", "invalid_type", "each customer must be a JSON object");
  std::string customer_id;
  if (auto err = read_required_string(item, "customer_id", "customer_id", customer_id, kMaxIdLength)) return *err;
  return parse_customer(item, customer_id, default_region);
}

Json to_json(const Customer& c) {
  Json accounts = Json::array();
  for (const Account& a : c.accounts) {
    Json j = {{"account_id", a.account_id},
              {"premise_id", a.premise_id},
              {"service_address",
               {{"line1", a.service_address.line1},
                {"line2", a.service_address.line2},
                {"city", a.service_address.city},
                {"state", a.service_address.state},
                {"zip", a.service_address.zip}}},
              {"timezone", a.timezone},
              {"feeder", a.feeder},
              {"segments", a.segments}};
    if (!a.language.empty()) j["language"] = a.language;
    accounts.push_back(std::move(j));
  }
  Json contacts = Json::array();
  for (const Contact& k : c.contacts) {
    Json j = {{"channel", to_string(k.channel)},
              {"address", k.address},
              {"verified", k.verified},
              {"active", k.active},
              {"consent", to_string(k.consent)},
              {"source", k.source}};
    if (k.id != 0) j["contact_id"] = k.id;
    contacts.push_back(std::move(j));
  }
  return {{"customer_id", c.customer_id},
          {"name", c.name},
          {"language", c.language},
          {"accounts", std::move(accounts)},
          {"contacts", std::move(contacts)}};
}

}  // namespace herald
