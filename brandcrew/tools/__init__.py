"""brandcrew.tools."""
