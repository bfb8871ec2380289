"""brandcrew.connectors."""
