// The links built on the public base URL.
#include "herald/domain/deployment.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(PublicUrls, BuildEveryLinkOnTheOneBase) {
  const PublicUrls urls{"https://herald.example.com"};
  EXPECT_EQ(urls.unsubscribe("tok.sig"), "https://herald.example.com/v1/unsubscribe/tok.sig");
  EXPECT_EQ(urls.twilio_status_callback(), "https://herald.example.com/v1/webhooks/twilio/status");
}

}  // namespace
}  // namespace herald
