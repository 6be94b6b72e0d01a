"""Folder jobs: any per-image function over a whole folder, resumable (no Qt)."""
