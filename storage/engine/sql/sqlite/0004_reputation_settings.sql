-- Reputation (SPEC §8): an append-only log of changes per bot. Cooldowns, daily
-- limits and totals are derived from it inside the writer. Snowflakes are stored
-- zero-padded to 20 digits, like everywhere else.
-- kind: 1 give (source_user gave one to user_id), 2 increase, 3 decrease, 4 reset.
-- `amount` is the signed change to user_id's reputation, `reputation` the value
-- after the entry (a projection, checked against a replay). `ts` is Unix epoch
-- milliseconds. A reset with `reset_cooldown` = 1 also frees user_id's cooldown:
-- gives user_id made before it no longer count.
CREATE TABLE reputation_entries (
    id              INTEGER PRIMARY KEY,
    bot_id          TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    source_user     TEXT,
    kind            INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
    amount          INTEGER NOT NULL,
    reputation      INTEGER NOT NULL,
    ts              INTEGER NOT NULL,
    reset_cooldown  INTEGER NOT NULL DEFAULT 0 CHECK (reset_cooldown IN (0, 1)),
    CHECK ((kind = 1) = (source_user IS NOT NULL)),
    CHECK (kind <> 1 OR source_user <> user_id)
);
-- Gives made by a user (their cooldown) and received by a user (daily cap).
CREATE INDEX reputation_given ON reputation_entries (bot_id, source_user, ts) WHERE kind = 1;
CREATE INDEX reputation_received ON reputation_entries (bot_id, user_id, kind, ts);
CREATE INDEX reputation_cooldown_resets ON reputation_entries (bot_id, user_id, id)
    WHERE reset_cooldown = 1;

CREATE TRIGGER reputation_no_update BEFORE UPDATE ON reputation_entries
BEGIN SELECT RAISE(ABORT, 'reputation entries are append-only'); END;
CREATE TRIGGER reputation_no_delete BEFORE DELETE ON reputation_entries
BEGIN SELECT RAISE(ABORT, 'reputation entries are append-only'); END;

-- Current reputation per user: a projection of reputation_entries (the last
-- entry's `reputation`), kept in the same transaction, for reads and leaderboards.
CREATE TABLE reputation_users (
    bot_id      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    reputation  INTEGER NOT NULL,
    PRIMARY KEY (bot_id, user_id)
) WITHOUT ROWID;
CREATE INDEX reputation_board ON reputation_users (bot_id, reputation DESC, user_id);

-- Reputation settings per bot; no row means the defaults.
CREATE TABLE reputation_settings (
    bot_id                          TEXT    PRIMARY KEY,
    reputation_per_day              INTEGER NOT NULL,
    maximum_reputation              INTEGER NOT NULL,
    maximum_reputation_received_day INTEGER NOT NULL,
    reputation_cooldown             INTEGER NOT NULL CHECK (reputation_cooldown >= 300),
    updated_at                      REAL    NOT NULL
) WITHOUT ROWID;

-- The settings store (SPEC §9): JSON documents per bot. A setting has subtype and
-- subid '' (path segments are never empty); a sub-setting has both set.
CREATE TABLE settings_store (
    bot_id      TEXT NOT NULL,
    type        TEXT NOT NULL,
    id          TEXT NOT NULL,
    subtype     TEXT NOT NULL DEFAULT '',
    subid       TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (bot_id, type, id, subtype, subid)
) WITHOUT ROWID;
