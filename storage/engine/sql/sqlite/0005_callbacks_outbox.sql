-- Callbacks (webhooks) per bot and event, and the outbox of events to deliver.
-- An outbox row is written in the same transaction as the change it reports, so
-- an event exists exactly when its change was committed (SPEC §10).
CREATE TABLE callbacks (
    bot_id     TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (bot_id, event)
) WITHOUT ROWID;

-- `body` is the exact JSON sent (and signed). `next_at` is when the next attempt
-- may start; `done_at` is set once delivered (or given up, with `error` kept).
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    bot_id     TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    body       BLOB    NOT NULL,
    created_at REAL    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    REAL    NOT NULL,
    done_at    REAL,
    delivered  INTEGER NOT NULL DEFAULT 0,
    error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_at) WHERE done_at IS NULL;
CREATE INDEX outbox_done ON outbox (done_at) WHERE done_at IS NOT NULL;
