-- Ability scores rolled by the server (4d6 drop lowest, six times) for a player who creates a
-- character with the "rolled" method. A roll is used by at most one character: creation deletes
-- it in the same transaction that inserts the character, and records the dice in the character.
CREATE TABLE ability_rolls (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rolls      TEXT   NOT NULL CHECK (json_valid(rolls)),
    created_at BIGINT NOT NULL
);
CREATE INDEX ability_rolls_user ON ability_rolls (user_id);
