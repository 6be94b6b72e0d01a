"""`--self-test`: a check per capability that needs no downloaded model."""
