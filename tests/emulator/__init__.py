"""Tests for L{ocppcs.emulator}."""
