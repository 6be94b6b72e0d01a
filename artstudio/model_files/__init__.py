"""Model files: identified by their contents, read safely, found in the folders
and caches artists keep, downloaded only when asked. No Qt."""
