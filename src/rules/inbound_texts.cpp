// Built-in reply texts (English and Spanish) and placeholder filling.
#include "herald/rules/inbound_texts.hpp"

namespace herald::rules {

InboundReplies default_inbound_replies() {
  InboundReplies r;
  auto& en = r.languages["en"];
  en.opted_out = "{utility}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.";
  en.opted_in =
      "{utility}: You are subscribed to account alerts again. Msg&data rates may apply. Reply HELP for help, STOP to "
      "stop.";
  en.contact_confirmed =
      "{utility}: Your number is confirmed for account alerts. Msg&data rates may apply. Reply HELP for help, STOP to "
      "stop.";
  en.help =
      "{utility} account alerts: outages, billing and service. Msg&data rates may apply. Reply STOP to stop. Help: "
      "{phone} or {url}";
  en.menu =
      "{utility}: Reply BAL for your balance, PAY to pay, OUT to report an outage, STATUS for outage status, REG to "
      "register this number, HELP for help, STOP to stop.";
  en.choose_account = "{utility}: Which account? Reply {choices}.";
  en.choice_item = "{key} for {label}";
  en.closed = "{utility}: OK, nothing was done.";
  en.unavailable = "{utility}: We couldn't process that right now. Please try again later or call {phone}.";

  auto& es = r.languages["es"];
  es.opted_out =
      "{utility}: Se canceló su suscripción y no recibirá más mensajes. Responda START para volver a suscribirse.";
  es.opted_in =
      "{utility}: Está suscrito de nuevo a las alertas de su cuenta. Pueden aplicarse tarifas de mensajes y datos. "
      "Responda AYUDA para ayuda, STOP para cancelar.";
  es.contact_confirmed =
      "{utility}: Su número quedó confirmado para alertas de su cuenta. Pueden aplicarse tarifas de mensajes y datos. "
      "Responda AYUDA para ayuda, STOP para cancelar.";
  es.help =
      "{utility}: alertas de cortes, facturación y servicio. Pueden aplicarse tarifas de mensajes y datos. Responda "
      "STOP para cancelar. Ayuda: {phone} o {url}";
  es.menu =
      "{utility}: Responda SALDO para su saldo, PAGAR para pagar, APAGON para reportar un corte, ESTADO para el estado "
      "de un corte, REGISTRAR para registrar este número, AYUDA para ayuda, STOP para cancelar.";
  es.choose_account = "{utility}: ¿Qué cuenta? Responda {choices}.";
  es.choice_item = "{key} para {label}";
  es.closed = "{utility}: Entendido, no se hizo nada.";
  es.unavailable = "{utility}: No pudimos procesar eso ahora. Intente más tarde o llame al {phone}.";
  return r;
}

InboundTexts texts_for(const InboundReplies& replies, std::string_view language, std::string_view default_language) {
  std::vector<const InboundTexts*> chain;
  for (std::string_view candidate : {language, language.substr(0, language.find('-')), default_language,
                                     std::string_view("en")}) {
    if (auto it = replies.languages.find(std::string(candidate)); it != replies.languages.end())
      chain.push_back(&it->second);
  }
  static const InboundReplies kBuiltIn = default_inbound_replies();
  chain.push_back(&kBuiltIn.languages.at("en"));
  InboundTexts out;
  for (auto field : {&InboundTexts::opted_out, &InboundTexts::opted_in, &InboundTexts::contact_confirmed,
                     &InboundTexts::help, &InboundTexts::menu,
                     &InboundTexts::choose_account, &InboundTexts::choice_item, &InboundTexts::closed,
                     &InboundTexts::unavailable}) {
    for (const auto* texts : chain) {
      if (!(texts->*field).empty()) {
        out.*field = texts->*field;
        break;
      }
    }
  }
  return out;
}

std::string fill_text(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      const auto close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        if (auto it = values.find(std::string(text.substr(i + 1, close - i - 1))); it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace herald::rules
