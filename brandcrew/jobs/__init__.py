"""brandcrew.jobs."""
