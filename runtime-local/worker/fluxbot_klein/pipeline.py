"""KleinPipeline: prompt and reference caches, batched generation of same-size requests."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Sequence

import torch

from . import images
from .models import sampler

if TYPE_CHECKING:  # the loader is not needed at run time here
    from .checkpoint.loader import KleinModel

Progress = Callable[[int, int], None]  # on_progress(step, steps)

MAX_REFERENCES = 4
MAX_PROMPT_TOKENS = 512
DISTILLED_STEPS = 4
BASE_STEPS = 50
BASE_GUIDANCE = 4.0


@dataclass
class GenerateRequest:
    """One validated request: references are [3,H,W] tensors in [-1,1]."""
    prompt: str
    width: int
    height: int
    seed: int
    steps: int
    guidance: float | None = None
    references: list[torch.Tensor] = field(default_factory=list)
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


class _LRU:
    """A small bounded least-recently-used map with hit/miss counters."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, int(capacity))
        self.items = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        value = self.items.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self.items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.capacity == 0:
            return
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)

    def __len__(self) -> int:
        return len(self.items)


_ENCODERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="klein-encode")


class KleinPipeline:
    """Text-to-image and image editing with a loaded KleinModel, in batches of same-size requests."""

    max_references = MAX_REFERENCES
    max_prompt_tokens = MAX_PROMPT_TOKENS

    def __init__(self, model: KleinModel, prompt_cache_size: int = 256, reference_cache_size: int = 64) -> None:
        self.model = model
        distilled = model.variant == "distilled"
        self.default_steps = DISTILLED_STEPS if distilled else BASE_STEPS
        self.default_guidance = None if distilled else BASE_GUIDANCE
        self.prompt_cache = _LRU(prompt_cache_size)
        self.reference_cache = _LRU(reference_cache_size)
        self._lock = threading.Lock()
        self.latent_channels = model.transformer.config.in_channels
        self.downscale = model.vae.config.downscale

    # request checks (called from the server's handler threads) --------------------------------
    def check_prompt(self, prompt: str) -> None:
        """RequestError prompt_too_long when the chat-templated prompt exceeds 512 tokens."""
        self.model.tokenizer.chat_ids(prompt, self.max_prompt_tokens)

    def decode_reference(self, data: bytes, field: str) -> torch.Tensor:
        """Image file bytes -> [3,H,W] in [-1,1] (about 1 MP, sides of 16)."""
        return images.decode_reference(data, field)

    # conditioning ------------------------------------------------------------------------------
    def encode_prompts(self, prompts: Sequence[str]) -> torch.Tensor:
        """Text embeddings [B, 512, 3·hidden] for prompts, through the LRU cache."""
        m = self.model
        out = [None] * len(prompts)
        todo = {}
        with self._lock:
            for i, prompt in enumerate(prompts):
                cached = self.prompt_cache.get(prompt)
                if cached is not None:
                    out[i] = cached
                else:
                    todo.setdefault(prompt, []).append(i)
        if todo:
            ids, masks = [], []
            for prompt in todo:
                i, mask, _ = m.tokenizer.chat_ids(prompt, self.max_prompt_tokens)
                ids.append(i)
                masks.append(mask)
            ids = torch.tensor(ids, dtype=torch.long, device=m.device)
            masks = torch.tensor(masks, dtype=torch.long, device=m.device)
            emb = m.text_encoder(ids, masks).to(m.dtype)
            with self._lock:
                for row, (prompt, where) in enumerate(todo.items()):
                    e = emb[row].clone()
                    self.prompt_cache.put(prompt, e)
                    for i in where:
                        out[i] = e
        return torch.stack(out)

    @staticmethod
    def _reference_key(x: torch.Tensor) -> str:
        x = x.detach().to("cpu", torch.float32).contiguous()
        h = hashlib.blake2b(digest_size=20)
        h.update(repr(tuple(x.shape)).encode())
        h.update(x.numpy().tobytes())
        return h.hexdigest()

    def encode_reference(self, x: torch.Tensor) -> torch.Tensor:
        """VAE latent [128, h, w] (model dtype, on the device) of one [3,H,W] image, through the LRU cache."""
        key = self._reference_key(x)
        with self._lock:
            cached = self.reference_cache.get(key)
        if cached is not None:
            return cached
        m = self.model
        lat = m.vae.encode(x[None].to(device=m.device, dtype=m.vae.dtype))[0].to(m.dtype)
        with self._lock:
            self.reference_cache.put(key, lat)
        return lat

    # generation --------------------------------------------------------------------------------
    def _guidance(self, request: GenerateRequest) -> float | None:
        if self.model.variant == "distilled":
            return None
        return float(request.guidance) if request.guidance is not None else float(BASE_GUIDANCE)

    def _group_key(self, r: GenerateRequest) -> tuple:
        return (r.width, r.height, r.steps, self._guidance(r),
                tuple(tuple(x.shape) for x in r.references))

    def generate(self, requests: Sequence[GenerateRequest], on_progress: Progress | None = None) -> list[GeneratedImage]:
        """Images for requests, in order. Same-size requests (and same reference shapes) run as one
        batch; on_progress(step, steps) counts steps over all the batches."""
        jobs = [_ENCODERS.submit(finish) for finish in self.render(requests, on_progress)]
        return [j.result() for j in jobs]

    def render(self, requests: Sequence[GenerateRequest],
               on_progress: Progress | None = None) -> list[Callable[[], GeneratedImage]]:
        """The device part of generate: per request, in order, a callable that encodes its image on
        the CPU and returns the GeneratedImage (the server runs these beside the next batch)."""
        for r in requests:
            if r.width % self.downscale or r.height % self.downscale:
                raise ValueError(f"{r.width}x{r.height} is not a multiple of {self.downscale}")
        groups = OrderedDict()
        for i, r in enumerate(requests):
            groups.setdefault(self._group_key(r), []).append(i)
        total = sum(requests[idx[0]].steps for idx in groups.values())
        done = [0]

        def step_done(step: int, steps: int) -> None:
            if on_progress is not None:
                on_progress(done[0] + step, total)

        results = [None] * len(requests)
        with torch.inference_mode():
            for idx in groups.values():
                batch = [requests[i] for i in idx]
                for i, finish in zip(idx, self._render_batch(batch, step_done)):
                    results[i] = finish
                done[0] += batch[0].steps
        return results

    def _render_batch(self, batch: list[GenerateRequest], on_step: Progress) -> list[Callable[[], GeneratedImage]]:
        m = self.model
        started = time.monotonic()
        first = batch[0]
        h, w = first.height // self.downscale, first.width // self.downscale
        txt = self.encode_prompts([r.prompt for r in batch])
        txt_ids = sampler.text_ids(txt.shape[1])[None]
        noise = sampler.initial_noise([r.seed for r in batch], self.latent_channels, h, w,
                                      device=m.device, dtype=m.dtype)
        img = sampler.pack(noise)
        img_ids = sampler.image_ids(h, w)[None]
        ref = ref_ids = None
        if first.references:
            tokens = []
            for r in batch:
                t, ids = sampler.pack_references([self.encode_reference(x) for x in r.references])
                tokens.append(t)
                ref_ids = ids[None]
            ref = torch.cat(tokens, dim=0)
        guidance = self._guidance(first)
        uncond = self.encode_prompts([""]) if guidance is not None else None
        schedule = sampler.get_schedule(first.steps, h * w)
        x = sampler.denoise(m.transformer, img, img_ids, txt, txt_ids, schedule, ref=ref, ref_ids=ref_ids,
                            guidance_scale=guidance, uncond_txt=uncond,
                            uncond_txt_ids=txt_ids if uncond is not None else None, on_step=on_step)
        pixels = m.vae.decode(sampler.unpack(x, h, w)).to("cpu", torch.float32)

        def finisher(x: torch.Tensor, r: GenerateRequest) -> Callable[[], GeneratedImage]:
            def finish() -> GeneratedImage:
                data = images.encode_image(x, r.output_format)
                elapsed = int((time.monotonic() - started) * 1000)
                return GeneratedImage(data, r.output_format, r.width, r.height, r.seed, elapsed)
            return finish

        return [finisher(pixels[i], r) for i, r in enumerate(batch)]

    def warmup(self, sizes: Iterable[tuple[int, int]], steps: int | None = None) -> None:
        """Run one request per (width, height) so later requests at these sizes pay no one-off costs."""
        for width, height in sizes:
            self.generate([GenerateRequest(prompt="warm-up", width=int(width), height=int(height), seed=0,
                                           steps=steps or self.default_steps, guidance=self.default_guidance)])
