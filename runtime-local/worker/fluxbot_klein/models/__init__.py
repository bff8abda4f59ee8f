"""klein's parts as torch code: transformer, VAE, text encoder and sampler; no checkpoint reading here."""

from typing import Union

import torch

Device = Union[torch.device, str]  # a torch.device or its name ("cpu", "cuda:0", "meta")
