-- Two-way SMS: conversations opened by messages that ask a question, and every inbound message
-- with what it matched and the reply sent.

-- A conversation expects replies (`expected`: normalised reply -> action name) from one
-- address until it expires. The newest open one on an address is the one a reply answers.
-- message_id is the message that opened it; NULL for a follow-up an action opened (a
-- confirmation step, a choice among accounts), whose parent_id names the conversation it
-- continues.
CREATE TABLE herald.conversations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id  bigint REFERENCES herald.messages ON DELETE CASCADE,
  parent_id   bigint REFERENCES herald.conversations,
  channel     text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'voice')),
  address     text NOT NULL,
  customer_id text,
  account_id  text,
  expected    jsonb NOT NULL,
  context     jsonb NOT NULL DEFAULT '{}',
  state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'superseded', 'cancelled')),
  opened_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  closed_at   timestamptz
);
-- "The newest open conversation on this number": expiry is checked on the few rows found,
-- so an expired conversation needs no sweeper to stop answering.
CREATE INDEX conversations_open ON herald.conversations (channel, address, opened_at DESC, id DESC) WHERE state = 'open';
CREATE INDEX conversations_message ON herald.conversations (message_id) WHERE message_id IS NOT NULL;

-- provider_message_id is unique per provider: a webhook the provider retries is stored, and
-- acted on, once. customer_ids: every customer with an active contact on the number when it
-- arrived (a number may be shared). handled_at NULL: stored, not yet acted on.
CREATE TABLE herald.inbound_messages (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider            text NOT NULL,
  provider_message_id text,
  channel             text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'voice')),
  from_address        text NOT NULL,
  to_address          text NOT NULL DEFAULT '',
  body                text NOT NULL,
  received_at         timestamptz NOT NULL,
  customer_ids        text[] NOT NULL DEFAULT '{}',
  contact_ids         bigint[] NOT NULL DEFAULT '{}',
  conversation_id     bigint REFERENCES herald.conversations,
  matched             text NOT NULL DEFAULT '',
  keyword             text NOT NULL DEFAULT '',
  action              text NOT NULL DEFAULT '',
  reply               text NOT NULL DEFAULT '',
  error               text,
  claimed_at          timestamptz NOT NULL,
  handled_at          timestamptz
);
CREATE UNIQUE INDEX inbound_messages_provider_id ON herald.inbound_messages (provider, provider_message_id)
  WHERE provider_message_id IS NOT NULL;
CREATE INDEX inbound_messages_from ON herald.inbound_messages (from_address, id DESC);
CREATE INDEX inbound_messages_conversation ON herald.inbound_messages (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX inbound_messages_received ON herald.inbound_messages USING brin (received_at);
