"""Reading klein checkpoints: safetensors files, key names in each layout, shapes, configs, the loader.

Also writes the tiny random checkpoints the tests use (`tiny`).
"""
