-- Change feeds for the in-memory leaderboards (storage/boards.py).
--
-- A board catches up from what was committed since it last looked: new ledger
-- entries (by id), profiles opened, closed or changed in a ranked value
-- (account_feed), and activity added (activity_feed: activity buckets are
-- updated in place, so their deltas are recorded here). Triggers fill both, so
-- every writer (the server, an import, the CLI) is seen. No trigger fires on a
-- balance update, the ledger's hot path: balances are caught up from the ledger.
-- `at` (epoch seconds) is only for pruning (storage/feeds.py).
CREATE TABLE account_feed (
    seq     INTEGER PRIMARY KEY,
    account INTEGER NOT NULL,
    at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE TRIGGER account_feed_insert AFTER INSERT ON accounts
BEGIN
    INSERT INTO account_feed (account) VALUES (new.id);
END;
CREATE TRIGGER account_feed_open AFTER UPDATE OF open ON accounts
    WHEN old.open IS NOT new.open
BEGIN
    INSERT INTO account_feed (account) VALUES (new.id);
END;
CREATE TRIGGER account_feed_values
    AFTER UPDATE OF experience, level, text_level, text_experience, text_messages,
        time_global, pray_streak ON accounts
    WHEN old.open IS new.open AND (old.experience IS NOT new.experience
        OR old.level IS NOT new.level OR old.text_level IS NOT new.text_level
        OR old.text_experience IS NOT new.text_experience
        OR old.text_messages IS NOT new.text_messages
        OR old.time_global IS NOT new.time_global OR old.pray_streak IS NOT new.pray_streak)
BEGIN
    INSERT INTO account_feed (account) VALUES (new.id);
END;

CREATE TABLE activity_feed (
    seq        INTEGER PRIMARY KEY,
    account    INTEGER NOT NULL,
    hour       INTEGER NOT NULL,
    experience INTEGER NOT NULL,
    time       INTEGER NOT NULL,
    messages   INTEGER NOT NULL,
    at         INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE TRIGGER activity_feed_insert AFTER INSERT ON activity
BEGIN
    INSERT INTO activity_feed (account, hour, experience, time, messages)
    VALUES (new.account, new.hour, new.experience, new.time, new.messages);
END;
CREATE TRIGGER activity_feed_update AFTER UPDATE ON activity
BEGIN
    INSERT INTO activity_feed (account, hour, experience, time, messages)
    VALUES (new.account, new.hour, new.experience - old.experience, new.time - old.time,
            new.messages - old.messages);
END;
CREATE TRIGGER activity_feed_delete AFTER DELETE ON activity
BEGIN
    INSERT INTO activity_feed (account, hour, experience, time, messages)
    VALUES (old.account, old.hour, -old.experience, -old.time, -old.messages);
END;

-- How far each feed was pruned: a board that had not read that far rebuilds.
CREATE TABLE feed_pruned (
    feed TEXT PRIMARY KEY,
    upto INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO feed_pruned (feed, upto) VALUES ('account_feed', 0), ('activity_feed', 0);
