-- A voice message opens its conversation when Herald first answers the call with a <Gather>
-- (the call was answered by a person). Twilio may fetch a call's TwiML again, and two fetches
-- may race: one conversation per voice message, whichever fetch comes first.
CREATE UNIQUE INDEX conversations_voice_message ON herald.conversations (message_id)
  WHERE channel = 'voice' AND message_id IS NOT NULL;
