"""A small relying party inside the reference site, so a newcomer can watch the whole journey."""
