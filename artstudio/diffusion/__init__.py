"""Generation with diffusion models: parameters and checks, the family registry,
loading, sampling, modes, masks, previews, metadata and history. No Qt."""
