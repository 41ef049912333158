-- The image store (SPEC §14, weeb.sh "toph"). An image row is metadata; its file
-- lives in the media folder, stored once by the SHA-256 of its bytes (`sha256`),
-- so two rows may share one file. `account` is the uploading bot (20-digit padded
-- like every snowflake); images are shared by every bot of the server, a hidden
-- one only seen by its uploader. `created_at` is Unix epoch milliseconds.
-- Plain SQL that PostgreSQL also takes (no WITHOUT ROWID, no INSERT OR REPLACE).
CREATE TABLE images (
    id          TEXT    NOT NULL PRIMARY KEY,
    account     TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    base_type   TEXT    NOT NULL,
    nsfw        BIGINT NOT NULL CHECK (nsfw IN (0, 1)),
    hidden      BIGINT NOT NULL CHECK (hidden IN (0, 1)),
    file_type   TEXT    NOT NULL,
    mime_type   TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    bytes       BIGINT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    source      TEXT,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX images_by_type ON images (type, created_at, id);
CREATE INDEX images_by_account ON images (account, created_at, id);
CREATE INDEX images_by_file ON images (sha256);

-- Tags of an image. A tag inherits the image's `hidden` when added; `account` is
-- the bot that added it (hidden tags are seen by that bot only).
CREATE TABLE image_tags (
    image_id    TEXT    NOT NULL REFERENCES images (id) DEFERRABLE,
    name        TEXT    NOT NULL,
    hidden      BIGINT NOT NULL CHECK (hidden IN (0, 1)),
    account     TEXT    NOT NULL,
    PRIMARY KEY (image_id, name)
);
CREATE INDEX image_tags_by_name ON image_tags (name, image_id);

-- The new `images` scope (upload, tag, delete, list, generate), which new keys get
-- by default: keys holding each of the six original non-admin scopes (the old
-- default) get it too; keys narrowed on purpose do not. Scopes are stored
-- space-separated in storage/keys.py's order, `images` just before `admin`.
UPDATE api_keys SET scopes = CASE
        WHEN (' ' || scopes || ' ') LIKE '% admin %'
            THEN trim(replace(' ' || scopes || ' ', ' admin ', ' images admin '))
        ELSE scopes || ' images'
    END
WHERE (' ' || scopes || ' ') LIKE '% profiles:read %'
  AND (' ' || scopes || ' ') LIKE '% profiles:write %'
  AND (' ' || scopes || ' ') LIKE '% ledger:read %'
  AND (' ' || scopes || ' ') LIKE '% ledger:write %'
  AND (' ' || scopes || ' ') LIKE '% reputation %'
  AND (' ' || scopes || ' ') LIKE '% settings %'
  AND (' ' || scopes || ' ') NOT LIKE '% images %';
