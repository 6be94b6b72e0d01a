"""Assists from the lecture's ideas: best-of-N ranked by CLIP (DALL-E 1's
reranking), image to prompt, prompt expansion (DALL-E 3's recaptioning) and
tileable textures. Each works with models the artist keeps locally and
never replaces the artist's own choice."""
