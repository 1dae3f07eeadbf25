"""The CoDi model: configs as data, components, pipeline, samplers, checkpoint import.

Imports torch; never Qt or SQL.
"""
