"""Finding and reading notes: PATHs in, the markdown files under them, the vault they live
in (``discover``), each note decoded with its frontmatter, date and tags (``reader``), and the
dates a run keeps (``dates``)."""
