-- Accounts: every party that can hold voicepoints. A user account carries its
-- voice profile while `open` is 1; deleting the profile closes the account (its
-- history in the ledger stays and references it). A treasury has `bot_id` set.
-- `balance` is a projection of the ledger, checked by `voiceprofile ledger verify`.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    vp_id           TEXT    NOT NULL UNIQUE,
    bot_id          TEXT,
    guild_id        TEXT,
    user_id         TEXT,
    balance         INTEGER NOT NULL DEFAULT 0,
    open            INTEGER NOT NULL DEFAULT 0,
    experience      INTEGER NOT NULL DEFAULT 0,
    level           INTEGER NOT NULL DEFAULT 1,
    pray_date       INTEGER NOT NULL DEFAULT 0,
    pray_streak     INTEGER NOT NULL DEFAULT 0,
    text_level      INTEGER,
    text_experience INTEGER,
    text_messages   INTEGER,
    time_global     INTEGER NOT NULL DEFAULT 0,
    timespent       TEXT,
    data            TEXT,
    created_at      REAL,
    updated_at      REAL,
    CHECK ((bot_id IS NULL) <> (guild_id IS NULL)),
    CHECK (bot_id IS NULL OR open = 0)
);
CREATE UNIQUE INDEX accounts_member ON accounts (guild_id, user_id) WHERE guild_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_bot ON accounts (bot_id) WHERE bot_id IS NOT NULL;
CREATE INDEX accounts_user ON accounts (user_id, guild_id) WHERE open = 1;

-- The append-only ledger. `id` is the sequence number (commit order). kind:
-- 1 transfer, 2 reset, 3 close, 4 revert. Accounts are small integer ids so the
-- two side indexes stay narrow. `src_balance`/`dst_balance` are the balances
-- after the entry (a projection, checked by `ledger verify`). `hash` chains each
-- entry to the previous one.
CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY,
    kind        INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
    ts          INTEGER NOT NULL,
    src         INTEGER NOT NULL REFERENCES accounts (id),
    dst         INTEGER NOT NULL REFERENCES accounts (id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    src_balance INTEGER NOT NULL,
    dst_balance INTEGER NOT NULL,
    bot         INTEGER NOT NULL REFERENCES accounts (id),
    reason      TEXT    NOT NULL DEFAULT '',
    reverts     INTEGER REFERENCES ledger (id),
    hash        BLOB    NOT NULL,
    CHECK (src <> dst)
);
CREATE INDEX ledger_src ON ledger (src);
CREATE INDEX ledger_dst ON ledger (dst);
CREATE UNIQUE INDEX ledger_reverted ON ledger (reverts) WHERE reverts IS NOT NULL;

-- The ledger is append-only: the database itself refuses edits and deletes.
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- First outcome of each Idempotency-Key, per bot (SPEC §6).
CREATE TABLE idempotency (
    bot        INTEGER NOT NULL REFERENCES accounts (id),
    key        TEXT    NOT NULL,
    body_hash  BLOB    NOT NULL,
    status     INTEGER NOT NULL,
    response   BLOB    NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (bot, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_age ON idempotency (created_at);

-- API keys: only a SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    bot_id     TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    scopes     TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    revoked_at REAL
);
