-- Dispatch lanes: a queue row carries the lane of its message, and the claim takes due rows
-- lane by lane (0 verification codes, 1 urgent safety notices, 2 outage messages, 3 billing
-- and the rest), oldest due first within a lane.
--
-- Intake, the verification code and the area notices set the lane from the message's type
-- (rules::event_lane; config `[rules.types."X"] lane`; store code passes static_cast<int>(Lane)).
-- A row written without one is an outage message (the outage fan-out writes its queue rows
-- set-based): the default is the outage lane, below codes and urgent notices.
ALTER TABLE herald.message_queue ADD COLUMN lane smallint NOT NULL DEFAULT 2;
ALTER TABLE herald.message_queue ADD CONSTRAINT message_queue_lane CHECK (lane BETWEEN 0 AND 3);

-- Rows already waiting get the lane of the built-in rules (a type's configured lane takes
-- effect for messages created from now on).
UPDATE herald.message_queue q
SET lane = CASE WHEN m.type = 'contact.verification' THEN 0
                WHEN m.urgent THEN 1
                WHEN m.topic = 'outage' THEN 2
                ELSE 3 END
FROM herald.messages m
WHERE m.id = q.message_id;

-- The claim reads one short range per lane, (lane, due_at <= now) in due order, and stops at
-- its limit: a backlog of a lower lane, or rows scheduled for later, are never read or sorted.
CREATE INDEX message_queue_lane_due ON herald.message_queue (lane, due_at);
DROP INDEX herald.message_queue_due;
