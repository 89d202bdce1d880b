"""The targets: a plan in, carried out by one writer per target. ``package`` writes an
``.apkg`` (``build`` writes it and then the ledger); ``sync`` carries the plan into a live
collection, through Anki's library (``write_collection``) or the AnkiConnect add-on
(``write_ankiconnect``, with its client ``ankiconnect``), in the profile ``profiles`` finds."""
