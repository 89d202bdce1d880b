"""Pictures: the file an image reference names, found inside the vault and nowhere else
(``media``), and SVG files checked before they go into a deck (``svg``). References in,
media files out."""
