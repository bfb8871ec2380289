"""brandcrew.services."""
