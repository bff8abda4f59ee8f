"""Developer tools for the klein worker, not shipped in the runtime-local jar.

`python -m fluxbot_klein_tools compare`: our components against reference implementations on the
same random weights. `python -m fluxbot_klein_tools bench`: the GPU benchmark at klein's real shapes.
Run from runtime-local/worker (or with it on PYTHONPATH), beside the fluxbot_klein package.
"""
