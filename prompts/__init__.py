"""Prompt templates and the default constitution, shipped as package data."""
