"""KleinPipeline: prompt and reference caches, batched generation of same-size requests."""

from dataclasses import dataclass, field
from typing import List, Optional


@dataclass
class GenerateRequest:
    """One validated request: references are [3,H,W] tensors in [-1,1]."""
    prompt: str
    width: int
    height: int
    seed: int
    steps: int
    guidance: Optional[float] = None
    references: List = field(default_factory=list)
    output_format: str = "png"


@dataclass
class GeneratedImage:
    """One encoded image and how long its batch took."""
    data: bytes
    format: str
    width: int
    height: int
    seed: int
    elapsed_ms: int
