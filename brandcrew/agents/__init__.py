"""brandcrew.agents."""
