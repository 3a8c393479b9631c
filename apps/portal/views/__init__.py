"""Thin page views: each checks access, calls one service, renders."""
