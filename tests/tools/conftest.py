"""Fixtures of this folder's tests."""

from tests.utils.agent_world import agent_world as agent_world
