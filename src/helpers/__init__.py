"""Borgerservice in Danish public libraries: research helpers."""
