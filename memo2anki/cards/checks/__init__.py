"""What a card may hold: HTML sanitized, text kept inert, warnings for what Anki's fields
cannot hold, and ``memo2anki check``'s lint. Card text in, safe card text and warnings out."""
