// Escaping text into TwiML (XML) and the HTML pages heraldd writes itself.
#include <gtest/gtest.h>

#include "herald/domain/text.hpp"

namespace herald {
namespace {

TEST(MarkupEscape, XmlUsesTheFivePredefinedEntities) {
  EXPECT_EQ(xml_escape(R"(Tom & "Jerry" <b>'s</b>)"), "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&apos;s&lt;/b&gt;");
}

TEST(MarkupEscape, HtmlWritesTheApostropheAsANumericReference) {
  EXPECT_EQ(html_escape("O'Brien <x> & \"y\""), "O&#39;Brien &lt;x&gt; &amp; &quot;y&quot;");
}

TEST(MarkupEscape, OtherTextIsUntouchedIncludingUtf8) {
  EXPECT_EQ(xml_escape("Oprima 1 si todavía está sin luz."), "Oprima 1 si todavía está sin luz.");
  EXPECT_EQ(html_escape(""), "");
}

}  // namespace
}  // namespace herald
