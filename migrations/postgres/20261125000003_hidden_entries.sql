-- Compendium entries a campaign's DM hides from the other members (a homebrew item the party has
-- not found yet). In the campaign's view of the compendium (?campaign=) they exist for the DM
-- alone; every variant of the type and slug is hidden.
CREATE TABLE campaign_hidden_entries (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    entry_type  TEXT   NOT NULL,
    slug        TEXT   NOT NULL,
    hidden_at   BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, entry_type, slug)
);
