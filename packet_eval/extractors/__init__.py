"""Extractors: each turns a packet into an Assessment over a ladder."""
