"""Cards from a note: one note's text in, its cards (front, back HTML, tags, identity) and
the pictures they show out.

``convert`` runs the stages over every note found (with the note cache, ``cache``);
``make`` makes one note's cards: ``memo`` finds the memo cards in markdown-it's tokens,
``render`` turns each back into card HTML. The sub-packages are the parts a back is made of:
``markdown`` (the parser, footnotes, code), ``obsidian`` (Obsidian's own syntax),
``pictures`` (finding and checking image files) and ``checks`` (what a card may hold)."""
