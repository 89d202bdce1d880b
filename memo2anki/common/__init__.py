"""Helpers every stage uses: pausing the cycle collector, stopping on signals."""
