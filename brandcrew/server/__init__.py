"""brandcrew.server."""
