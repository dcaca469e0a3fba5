"""The job contract both sides of the queue share, and every metric definition.

A leaf package: producers, workers and the composition root import it, and it imports
nothing of ours, so a producer can build, validate and count a job without importing the
worker runtime (Dramatiq middleware, handlers, actions).
"""
