-- Room for the ledger's new kinds of entry (5 import, 6 purchase, 7 refund,
-- 8 reward, 9 season, and later ones): SQLite cannot change a CHECK in place, so
-- the table is rebuilt with the same rows, indexes and append-only triggers. On a
-- large ledger this copies every entry once (about a minute per 10M entries).
PRAGMA defer_foreign_keys = ON;
DROP TRIGGER ledger_no_update;
DROP TRIGGER ledger_no_delete;
CREATE TABLE ledger_new (
    id          INTEGER PRIMARY KEY,
    kind        INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 31),
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
INSERT INTO ledger_new (id, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reason,
    reverts, hash)
    SELECT id, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reason, reverts, hash
    FROM ledger ORDER BY id;
DROP TABLE ledger;
ALTER TABLE ledger_new RENAME TO ledger;
CREATE INDEX ledger_src ON ledger (src);
CREATE INDEX ledger_dst ON ledger (dst);
CREATE UNIQUE INDEX ledger_reverted ON ledger (reverts) WHERE reverts IS NOT NULL;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
