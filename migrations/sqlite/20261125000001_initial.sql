-- Grimoire's initial schema (SQLite). Times are Unix seconds and flags 0/1 (BIGINT, read the same way
-- on both backends); JSON is TEXT checked by json_valid.
PRAGMA foreign_keys = ON;

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      BIGINT  NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT
);
-- Usernames and emails are unique regardless of case.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
CREATE INDEX users_last_seen ON users (last_seen_at);

-- Tokens revoked by logout, kept until they would have expired anyway (used when Redis is off).
CREATE TABLE revoked_tokens (
    jti        TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    invite_code TEXT   NOT NULL UNIQUE,
    created_by  BIGINT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE campaign_members (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL CHECK (role IN ('dm', 'player', 'observer')),
    joined_at   BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, user_id)
);
CREATE INDEX campaign_members_user ON campaign_members (user_id);

-- Invitations by username, waiting for the invited user to accept or decline.
CREATE TABLE campaign_invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL CHECK (role IN ('dm', 'player', 'observer')),
    invited_by  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    UNIQUE (campaign_id, user_id)
);
CREATE INDEX campaign_invitations_user ON campaign_invitations (user_id);

-- Homebrew rule packs the DM enabled for the campaign (the SRD is always on).
CREATE TABLE campaign_packs (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    pack_id     TEXT   NOT NULL,
    PRIMARY KEY (campaign_id, pack_id)
);

-- Notes; hidden ones are for the DM's eyes only.
CREATE TABLE campaign_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    author_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT   NOT NULL,
    body        TEXT   NOT NULL DEFAULT '',
    hidden      BIGINT NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX campaign_notes_campaign ON campaign_notes (campaign_id);

CREATE TABLE characters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
    -- A character asks to join a campaign ('pending') and the DM accepts it ('accepted').
    campaign_status TEXT CHECK (campaign_status IN ('pending', 'accepted')),
    name        TEXT   NOT NULL,
    data        TEXT   NOT NULL CHECK (json_valid(data)),
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX characters_owner ON characters (owner_id);
CREATE INDEX characters_campaign ON characters (campaign_id);

-- One row per compendium entry: the record whole in `content`, plus the columns needed to list,
-- sort and filter it. `source` is 'srd' or the id of the rule pack that brought it.
CREATE TABLE compendium_entries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_type       TEXT   NOT NULL,
    slug             TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    source           TEXT   NOT NULL,
    edition          TEXT   NOT NULL,
    content          TEXT   NOT NULL CHECK (json_valid(content)),
    content_hash     TEXT   NOT NULL,
    search_text      TEXT   NOT NULL DEFAULT '',
    updated_at       BIGINT NOT NULL,
    -- Filter columns, NULL where they do not apply to the type.
    level            BIGINT,
    school           TEXT,
    classes          TEXT,             -- ',wizard,sorcerer,': matched with LIKE '%,wizard,%'
    concentration    BIGINT,
    ritual           BIGINT,
    casting_time     TEXT,
    challenge_rating REAL,
    creature_type    TEXT,
    size             TEXT,
    category         TEXT,
    rarity           TEXT,
    UNIQUE (entry_type, slug, source, edition)
);
CREATE INDEX compendium_type_name ON compendium_entries (entry_type, edition, name);
CREATE INDEX compendium_type_level ON compendium_entries (entry_type, level);
CREATE INDEX compendium_type_cr ON compendium_entries (entry_type, challenge_rating);

-- Full-text search: an external-content FTS5 index kept in step by triggers.
CREATE VIRTUAL TABLE compendium_fts USING fts5 (
    name, search_text,
    content = 'compendium_entries', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4'
);
CREATE TRIGGER compendium_fts_insert AFTER INSERT ON compendium_entries BEGIN
    INSERT INTO compendium_fts (rowid, name, search_text) VALUES (new.id, new.name, new.search_text);
END;
CREATE TRIGGER compendium_fts_delete AFTER DELETE ON compendium_entries BEGIN
    INSERT INTO compendium_fts (compendium_fts, rowid, name, search_text)
    VALUES ('delete', old.id, old.name, old.search_text);
END;
CREATE TRIGGER compendium_fts_update AFTER UPDATE ON compendium_entries BEGIN
    INSERT INTO compendium_fts (compendium_fts, rowid, name, search_text)
    VALUES ('delete', old.id, old.name, old.search_text);
    INSERT INTO compendium_fts (rowid, name, search_text) VALUES (new.id, new.name, new.search_text);
END;
