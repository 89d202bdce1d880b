"""The deck's changes and the ledger: this run's cards and what was exported last in, a plan
out (``plan``: every card new, updated, renamed, moved, unchanged or gone, with its GUID).
``ledger`` reads and writes what was exported (``.memo2anki/`` beside the notes);
``rows_file`` keeps writing it cheap. The plan never knows the target."""
