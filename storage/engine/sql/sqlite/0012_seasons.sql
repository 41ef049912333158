-- Seasons (SPEC §12): a guild's final standings, archived when a season ends, then
-- the named counters reset. `number` counts per guild from 1; `name` is unique per
-- guild too, so a season end retried or sent twice at once makes one season (the
-- second finds the first). `guild_id` is 20-digit padded like accounts.guild_id;
-- `reset` is the JSON array of counters reset; `ended_at` epoch seconds.
CREATE TABLE seasons (
    id         INTEGER PRIMARY KEY,
    guild_id   TEXT    NOT NULL,
    number     INTEGER NOT NULL CHECK (number >= 1),
    name       TEXT    NOT NULL,
    reset      TEXT    NOT NULL,
    bot_id     TEXT    NOT NULL,
    ended_at   REAL    NOT NULL,
    members    INTEGER NOT NULL,
    moved      INTEGER NOT NULL,
    UNIQUE (guild_id, number),
    UNIQUE (guild_id, name)
);

-- One row per member per season: every ranked counter as it was when the season
-- ended (named as in `accounts`, so storage/queries/tops.py METRICS order it),
-- so the order of every top type can be computed from it. Keyed by `vp_id`: ties
-- break by it and a rank looks a member up by it, without a join.
CREATE TABLE season_standings (
    season          INTEGER NOT NULL REFERENCES seasons (id),
    account         INTEGER NOT NULL REFERENCES accounts (id),
    vp_id           TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    balance         INTEGER NOT NULL,
    experience      INTEGER NOT NULL,
    level           INTEGER NOT NULL,
    text_level      INTEGER,
    text_experience INTEGER,
    text_messages   INTEGER,
    time_global     INTEGER NOT NULL,
    pray_streak     INTEGER NOT NULL,
    PRIMARY KEY (season, vp_id)
);

-- An archive is immutable: the database itself refuses edits and deletes.
CREATE TRIGGER seasons_no_update BEFORE UPDATE ON seasons
BEGIN SELECT RAISE(ABORT, 'seasons are immutable'); END;
CREATE TRIGGER seasons_no_delete BEFORE DELETE ON seasons
BEGIN SELECT RAISE(ABORT, 'seasons are immutable'); END;
CREATE TRIGGER season_standings_no_update BEFORE UPDATE ON season_standings
BEGIN SELECT RAISE(ABORT, 'seasons are immutable'); END;
CREATE TRIGGER season_standings_no_delete BEFORE DELETE ON season_standings
BEGIN SELECT RAISE(ABORT, 'seasons are immutable'); END;

-- A guild's schedule (PUT /profile/{guild_id}/seasons/schedule): `every` week or
-- month; `done` is the last calendar boundary (epoch seconds) a season was ended
-- for, so each boundary is ended once, across restarts and downtime.
CREATE TABLE season_schedules (
    guild_id TEXT    NOT NULL PRIMARY KEY,
    every    TEXT    NOT NULL CHECK (every IN ('week', 'month')),
    reset    TEXT    NOT NULL,
    bot_id   TEXT    NOT NULL,
    done     REAL    NOT NULL
);
