"""brandcrew.store."""
