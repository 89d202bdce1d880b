"""The markdown: markdown-it-py set up as Obsidian reads a note (``parser``), footnotes
(``footnotes``) and fenced code highlighted (``code``). Markdown text in, tokens and HTML out."""
