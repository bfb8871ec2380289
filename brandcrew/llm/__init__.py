"""brandcrew.llm."""
