-- Tops, ranks, windows and stats (SPEC §7).
--
-- One partial index per metric and scope, in the exact order of the top (score
-- descending, then vp_id ascending), so a top is an index walk that stops after
-- `amount` rows and a rank is a few index range counts. Only open profiles are in
-- them: treasuries (open = 0) and deleted profiles never appear. Text values of a
-- profile without text count as 0, hence the coalesce() expression indexes (a
-- query must spell the same expression to use them). `open` is also a column of
-- each index although it is constant there: SQLite treats a partial index as
-- covering only when every column a query mentions is in it, and rank counts and
-- stats sums must not touch the table; for the same reason the expression
-- indexes also carry the raw text columns.
--
-- No index contains `balance`: it changes on every ledger entry, and
-- benchmarks/bench_tops_write_cost.py measured two such indexes cutting transfer
-- throughput to about 0.45x. So `points` tops and ranks read the scope's rows
-- (a guild's members through open_by_vp_guild); an operator who prefers fast
-- global points tops to write throughput can add the index by hand (README).
-- None of these indexes changes on a transfer; the ledger table gets none.
CREATE INDEX tops_levels ON accounts (open, level DESC, experience DESC, vp_id) WHERE open = 1;
CREATE INDEX tops_levels_guild ON accounts (guild_id, open, level DESC, experience DESC, vp_id)
    WHERE open = 1;
CREATE INDEX tops_time ON accounts (open, time_global DESC, vp_id) WHERE open = 1;
CREATE INDEX tops_time_guild ON accounts (guild_id, open, time_global DESC, vp_id) WHERE open = 1;
CREATE INDEX tops_text_level ON accounts
    (open, coalesce(text_level, 0) DESC, coalesce(text_experience, 0) DESC, vp_id,
     text_level, text_experience) WHERE open = 1;
CREATE INDEX tops_text_level_guild ON accounts
    (guild_id, open, coalesce(text_level, 0) DESC, coalesce(text_experience, 0) DESC, vp_id,
     text_level, text_experience)
    WHERE open = 1;
CREATE INDEX tops_text_message ON accounts (open, coalesce(text_messages, 0) DESC, vp_id, text_messages)
    WHERE open = 1;
CREATE INDEX tops_text_message_guild ON accounts
    (guild_id, open, coalesce(text_messages, 0) DESC, vp_id, text_messages) WHERE open = 1;
CREATE INDEX tops_pray_streak ON accounts (open, pray_streak DESC, vp_id) WHERE open = 1;
CREATE INDEX tops_pray_streak_guild ON accounts (guild_id, open, pray_streak DESC, vp_id)
    WHERE open = 1;
-- Profiles in vp_id order: the score-0 part of a windowed top and its rank counts.
CREATE INDEX open_by_vp ON accounts (open, vp_id) WHERE open = 1;
CREATE INDEX open_by_vp_guild ON accounts (guild_id, open, vp_id) WHERE open = 1;
-- Open profiles in (guild, user) order: GET /profile streams by keyset on it
-- (without it the `open = 1` indexes above make the planner sort every chunk).
CREATE INDEX open_by_member ON accounts (open, guild_id, user_id) WHERE open = 1;
-- Distinct users for /stats (accounts_user lacks `open`, so it is not covering).
CREATE INDEX open_users ON accounts (open, user_id) WHERE open = 1;

-- What PATCH and PATCH …/add added to a profile, per account and hour (hour =
-- floor(epoch seconds / 3600)). Rows only ever grow: gains are added, never
-- subtracted (see storage/activity.py for what counts). Windowed tops on `levels`,
-- `time` and `text-message` sum these.
CREATE TABLE activity (
    account    BIGINT NOT NULL REFERENCES accounts (id) DEFERRABLE,
    hour       BIGINT NOT NULL,
    experience BIGINT NOT NULL DEFAULT 0,
    time       BIGINT NOT NULL DEFAULT 0,
    messages   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account, hour)
);
-- Covering, so a global window reads one index range.
CREATE INDEX activity_hour ON activity (hour, account, experience, time, messages);
