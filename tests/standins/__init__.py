"""Offline stand-ins for hosted providers (issue 13): local servers that follow each provider's documented API."""
