-- Delivery takes each callback's oldest due events (a few per callback, so one
-- stuck receiver cannot hold up the others): one index range per callback.
CREATE INDEX outbox_due_by_callback ON outbox (bot_id, event, next_at) WHERE done_at IS NULL;
