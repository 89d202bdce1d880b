"""The command line: options parsed, the library run, what happened reported. Nothing else
happens here; the library never prints."""
