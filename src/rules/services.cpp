// Service keyword texts (en, es) and the registration reply reader.
#include "herald/rules/services.hpp"

#include <cctype>
#include <vector>

namespace herald::rules {

namespace {

ServiceTexts english() {
  ServiceTexts t;
  t.balance = "{utility}: Account {account} has a balance of {amount}, due {due_date}. Text PAY to pay it.";
  t.balance_no_date = "{utility}: Account {account} has a balance of {amount}. Text PAY to pay it.";
  t.balance_none = "{utility}: We have no bill on file for account {account} yet. Questions? Call {phone}.";
  t.pay_confirm =
      "{utility}: Reply Y to pay {amount} with the card ending {card} for account {account}, or N to cancel.";
  t.pay_nothing_due = "{utility}: Account {account} has nothing due right now. Thank you!";
  t.paid = "{utility}: Thank you! Your payment of {amount} with the card ending {card} was approved. "
           "Confirmation {confirmation}.";
  t.pay_declined = "{utility}: We could not take the payment ({reason}). Pay at {url} or call {phone}.";
  t.pay_unavailable = "{utility}: Payment by text is not available. Pay at {url} or call {phone}.";
  t.cis_down = "{utility}: We couldn't process that right now. Please try again later or call {phone}.";
  t.outage_reported = "{utility}: Thanks, we have your outage report for {address} (ref {reference}). "
                      "Text STATUS for updates.";
  t.outage_known = "{utility}: Outage at {address}: {status}. Estimated restoration {etr}.";
  t.outage_known_no_etr = "{utility}: Outage at {address}: {status}. We will text you when we have an estimate.";
  t.no_outage = "{utility}: There is no known outage at {address}. Text OUT to report one.";
  t.unknown_number = "{utility}: This number is not registered with an account. Text REG to register it, or call "
                     "{phone}.";
  t.reg_ask = "{utility}: To register this number, reply with your account number and service ZIP code, "
              "e.g. 1234567 62701.";
  t.reg_not_understood = "{utility}: Please reply with your account number and service ZIP code, e.g. 1234567 "
                         "62701. Text REG to start again.";
  t.reg_no_match = "{utility}: We could not find an account with that number and ZIP code. Text REG to try again "
                   "or call {phone}.";
  t.reg_done = "{utility}: This number now gets texts for account {account} at {address}. Reply HELP for help, "
               "STOP to opt out.";
  return t;
}

ServiceTexts spanish() {
  ServiceTexts t;
  t.balance = "{utility}: La cuenta {account} tiene un saldo de {amount}, vence el {due_date}. Envíe PAGAR para "
              "pagarlo.";
  t.balance_no_date = "{utility}: La cuenta {account} tiene un saldo de {amount}. Envíe PAGAR para pagarlo.";
  t.balance_none = "{utility}: Aún no tenemos una factura para la cuenta {account}. ¿Preguntas? Llame al {phone}.";
  t.pay_confirm = "{utility}: Responda Y para pagar {amount} con la tarjeta terminada en {card} para la cuenta "
                  "{account}, o N para cancelar.";
  t.pay_nothing_due = "{utility}: La cuenta {account} no tiene saldo pendiente. ¡Gracias!";
  t.paid = "{utility}: ¡Gracias! Su pago de {amount} con la tarjeta terminada en {card} fue aprobado. "
           "Confirmación {confirmation}.";
  t.pay_declined = "{utility}: No pudimos procesar el pago ({reason}). Pague en {url} o llame al {phone}.";
  t.pay_unavailable = "{utility}: El pago por mensaje de texto no está disponible. Pague en {url} o llame al {phone}.";
  t.cis_down = "{utility}: No pudimos procesar eso en este momento. Inténtelo más tarde o llame al {phone}.";
  t.outage_reported = "{utility}: Gracias, recibimos su reporte de apagón en {address} (ref {reference}). Envíe "
                      "ESTADO para novedades.";
  t.outage_known = "{utility}: Apagón en {address}: {status}. Restablecimiento estimado {etr}.";
  t.outage_known_no_etr = "{utility}: Apagón en {address}: {status}. Le avisaremos cuando tengamos un estimado.";
  t.no_outage = "{utility}: No hay apagones conocidos en {address}. Envíe APAGON para reportar uno.";
  t.unknown_number = "{utility}: Este número no está registrado con una cuenta. Envíe REGISTRAR para registrarlo o "
                     "llame al {phone}.";
  t.reg_ask = "{utility}: Para registrar este número, responda con su número de cuenta y el código postal del "
              "servicio, p. ej. 1234567 62701.";
  t.reg_not_understood = "{utility}: Responda con su número de cuenta y el código postal del servicio, p. ej. "
                         "1234567 62701. Envíe REGISTRAR para empezar de nuevo.";
  t.reg_no_match = "{utility}: No encontramos una cuenta con ese número y código postal. Envíe REGISTRAR para "
                   "intentarlo de nuevo o llame al {phone}.";
  t.reg_done = "{utility}: Este número ahora recibe mensajes de la cuenta {account} en {address}. Responda AYUDA "
               "para ayuda, STOP para cancelar.";
  return t;
}

// Each empty text of `t` takes the one from `fallback`.
void fill_gaps(ServiceTexts& t, const ServiceTexts& fallback) {
  for (auto member : {&ServiceTexts::balance, &ServiceTexts::balance_no_date, &ServiceTexts::balance_none,
                      &ServiceTexts::pay_confirm, &ServiceTexts::pay_nothing_due, &ServiceTexts::paid,
                      &ServiceTexts::pay_declined, &ServiceTexts::pay_unavailable, &ServiceTexts::cis_down,
                      &ServiceTexts::outage_reported, &ServiceTexts::outage_known, &ServiceTexts::outage_known_no_etr,
                      &ServiceTexts::no_outage, &ServiceTexts::unknown_number, &ServiceTexts::reg_ask,
                      &ServiceTexts::reg_not_understood, &ServiceTexts::reg_no_match, &ServiceTexts::reg_done}) {
    if ((t.*member).empty()) t.*member = fallback.*member;
  }
}

const ServiceTexts* find_language(const ServiceReplies& replies, std::string_view language) {
  if (language.empty()) return nullptr;
  if (auto it = replies.languages.find(std::string(language)); it != replies.languages.end()) return &it->second;
  return nullptr;
}

std::string primary_subtag(std::string_view language) {
  return std::string(language.substr(0, language.find_first_of("-_")));
}

bool is_zip(std::string_view s) {
  if (s.size() != 5 && s.size() != 10) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 5) {
      if (s[i] != '-') return false;
    } else if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool is_account_number(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  bool digit = false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-') return false;
    digit = digit || std::isdigit(u);
  }
  return digit;
}

}  // namespace

ServiceReplies default_service_replies() {
  ServiceReplies r;
  r.languages["en"] = english();
  r.languages["es"] = spanish();
  return r;
}

ServiceTexts service_texts_for(const ServiceReplies& replies, std::string_view language,
                               std::string_view default_language) {
  ServiceTexts out;
  for (const ServiceTexts* t : {find_language(replies, language), find_language(replies, primary_subtag(language)),
                                find_language(replies, default_language)}) {
    if (t) fill_gaps(out, *t);
  }
  fill_gaps(out, english());
  return out;
}

std::string mask_account(std::string_view account_id) {
  std::string tail;
  for (auto it = account_id.rbegin(); it != account_id.rend() && tail.size() < 4; ++it)
    if (std::isalnum(static_cast<unsigned char>(*it))) tail.insert(tail.begin(), *it);
  return "****" + tail;
}

std::optional<RegistrationReply> parse_registration_reply(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r') {
      if (!word.empty()) words.push_back(std::move(word)), word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  // A trailing full stop is how people end a sentence, not part of the number.
  for (auto& w : words)
    while (!w.empty() && (w.back() == '.' || w.back() == '!')) w.pop_back();
  if (words.size() != 2) return std::nullopt;
  // The ZIP is the last word when both could be one (an account number of five digits).
  if (is_zip(words[1]) && is_account_number(words[0])) return RegistrationReply{words[0], words[1].substr(0, 5)};
  if (is_zip(words[0]) && is_account_number(words[1])) return RegistrationReply{words[1], words[0].substr(0, 5)};
  return std::nullopt;
}

}  // namespace herald::rules
