"""Latent interpolation: journeys between seeds, prompts and pictures (no Qt)."""
