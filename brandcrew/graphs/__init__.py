"""brandcrew.graphs."""
