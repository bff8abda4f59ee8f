"""fluxbot_klein: FLUX.2 [klein] inference and the worker's HTTP server."""

__version__ = "0.1.0"
PROTOCOL = 1
