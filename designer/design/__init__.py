"""The design as data."""
