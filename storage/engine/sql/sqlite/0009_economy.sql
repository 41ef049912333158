-- The economy (SPEC §13): shop items, inventories, rewards.
--
-- Snowflakes are zero-padded text as everywhere; times of log rows are epoch
-- milliseconds like the ledger's. No foreign key joins these tables to each other
-- (an import loads other tables' rows in name order), only to `accounts`.

-- Items a bot sells in a guild. `stock` is what is left to sell (NULL: unlimited);
-- a PUT sets it, a purchase takes from it, the revert of a purchase gives back.
-- `per_user_limit` caps what one member may buy of the item in all (purchases
-- minus reverted ones; NULL: no cap).
CREATE TABLE shop_items (
    guild_id       TEXT    NOT NULL,
    bot_id         TEXT    NOT NULL,
    item_id        TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    price          INTEGER NOT NULL CHECK (price >= 0),
    sell_price     INTEGER CHECK (sell_price >= 0),
    stock          INTEGER CHECK (stock >= 0),
    per_user_limit INTEGER CHECK (per_user_limit >= 1),
    data           TEXT,
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at     REAL    NOT NULL,
    updated_at     REAL    NOT NULL,
    PRIMARY KEY (guild_id, bot_id, item_id)
) WITHOUT ROWID;

-- The append-only item log: one row per change of one member's holding of one
-- bot's item. kind: 1 purchase, 2 use, 3 give (the sender's row is negative, the
-- receiver's positive; `peer` names the other member), 4 sell, 5 grant, 6 revoke,
-- 7 revert (of a purchase), 8 close (the profile was deleted). `quantity` is the
-- signed change, `held` the holding after it (checked by `ledger verify`).
-- `entry` is the ledger entry that moved the money (purchase, refund, revert),
-- NULL when none did (a free item, a use, a give, a grant).
CREATE TABLE item_log (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    kind      INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 8),
    account   INTEGER NOT NULL REFERENCES accounts (id),
    bot_id    TEXT    NOT NULL,
    item_id   TEXT    NOT NULL,
    quantity  INTEGER NOT NULL CHECK (quantity <> 0),
    held      INTEGER NOT NULL CHECK (held >= 0),
    entry     INTEGER,
    peer      INTEGER REFERENCES accounts (id)
);
CREATE INDEX item_log_entry ON item_log (entry) WHERE entry IS NOT NULL;

CREATE TRIGGER item_log_no_update BEFORE UPDATE ON item_log
BEGIN SELECT RAISE(ABORT, 'the item log is append-only'); END;
CREATE TRIGGER item_log_no_delete BEFORE DELETE ON item_log
BEGIN SELECT RAISE(ABORT, 'the item log is append-only'); END;

-- Inventories: a projection of item_log, written in the same transaction.
-- `quantity` is what the member holds, `bought` what they bought of it in all
-- (purchases minus reverted purchases: the per-user limit counts it).
CREATE TABLE inventory (
    account   INTEGER NOT NULL REFERENCES accounts (id),
    bot_id    TEXT    NOT NULL,
    item_id   TEXT    NOT NULL,
    quantity  INTEGER NOT NULL CHECK (quantity >= 0),
    bought    INTEGER NOT NULL DEFAULT 0 CHECK (bought >= 0),
    PRIMARY KEY (account, bot_id, item_id)
) WITHOUT ROWID;
-- Who holds an item (deleting an item that someone holds is refused).
CREATE INDEX inventory_item ON inventory (bot_id, item_id, quantity);

-- Claimable rewards per bot and guild: either `cooldown` seconds between claims or
-- a UTC calendar `period` ('day', 'week' from Monday).
CREATE TABLE rewards (
    guild_id     TEXT    NOT NULL,
    bot_id       TEXT    NOT NULL,
    reward_id    TEXT    NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount >= 1),
    cooldown     INTEGER CHECK (cooldown >= 60),
    period       TEXT    CHECK (period IN ('day', 'week')),
    streak_bonus INTEGER NOT NULL DEFAULT 0 CHECK (streak_bonus >= 0),
    streak_max   INTEGER CHECK (streak_max >= 1),
    created_at   REAL    NOT NULL,
    updated_at   REAL    NOT NULL,
    CHECK ((cooldown IS NULL) <> (period IS NULL)),
    PRIMARY KEY (guild_id, bot_id, reward_id)
) WITHOUT ROWID;

-- Every claim, append-only, written with its `reward` ledger entry (`entry`). The
-- last claim of a member decides the next one (cooldown, streak), so a cooldown
-- lives exactly as long as the committed data.
CREATE TABLE reward_claims (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    account   INTEGER NOT NULL REFERENCES accounts (id),
    bot_id    TEXT    NOT NULL,
    reward_id TEXT    NOT NULL,
    streak    INTEGER NOT NULL CHECK (streak >= 1),
    amount    INTEGER NOT NULL CHECK (amount >= 1),
    entry     INTEGER NOT NULL
);
CREATE INDEX reward_claims_last ON reward_claims (account, bot_id, reward_id, id);

CREATE TRIGGER reward_claims_no_update BEFORE UPDATE ON reward_claims
BEGIN SELECT RAISE(ABORT, 'reward claims are append-only'); END;
CREATE TRIGGER reward_claims_no_delete BEFORE DELETE ON reward_claims
BEGIN SELECT RAISE(ABORT, 'reward claims are append-only'); END;

-- The new scope: keys that hold every non-admin scope get it, as new keys do.
UPDATE api_keys SET scopes = CASE
        WHEN (' ' || scopes || ' ') LIKE '% admin %'
            THEN trim(replace(' ' || scopes || ' ', ' admin ', ' economy admin '))
        ELSE scopes || ' economy'
    END
    WHERE (' ' || scopes || ' ') LIKE '% profiles:read %'
    AND (' ' || scopes || ' ') LIKE '% profiles:write %'
    AND (' ' || scopes || ' ') LIKE '% ledger:read %'
    AND (' ' || scopes || ' ') LIKE '% ledger:write %'
    AND (' ' || scopes || ' ') LIKE '% reputation %'
    AND (' ' || scopes || ' ') LIKE '% settings %'
    AND (' ' || scopes || ' ') NOT LIKE '% economy %';
