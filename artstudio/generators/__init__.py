"""One module per capability: plain functions over numpy, PIL and torch (no Qt)."""
