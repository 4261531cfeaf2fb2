-- The trigram index of message text (0010's messages_text) made every message write re-index
-- about a thousand trigrams: on the load benchmark it cut messages created from about 14,900/s
-- to 4,600/s and dispatched from about 8,900/s to 3,600/s (Postgres CPU per message 74 -> 290 µs),
-- because a status update that cannot stay on its page re-inserts them all too. Searching the
-- history's text must not cost the hot path that much, so the index goes until text search is
-- fed off the write path. Until then `q` is answered by a scan, narrowed by the other filters and
-- by a date range's id bounds. The customers' name index (few writes) stays.
DROP INDEX IF EXISTS herald.messages_text;
