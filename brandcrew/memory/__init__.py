"""brandcrew.memory."""
