"""Tests of brandcrew.services.listening, the NAB scorer and the listening evals."""
