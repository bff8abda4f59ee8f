"""Compare our klein implementation with reference implementations on the same random weights.

`python -m fluxbot_klein_tools compare [--flux2-src PATH] [--shape tiny|4b] [--device cpu|cuda]
[--dtype float32|bfloat16] [--tokenizer PATH] [--json]`

Sections (each reports the max absolute and the max relative error per component; relative is
the max absolute error divided by the largest absolute value of the reference's output):

- transformer: our `Flux2Transformer` + sampler against BFL's `flux2.model.Flux2` and
  `flux2.sampling`, imported at run time from `--flux2-src` (a checkout's `src` folder; nothing
  of theirs is copied into ours). Their model is built with klein's shapes and loaded with our
  random state dict (the key names are the same). Compared: the schedule, token packing and
  position ids, one forward pass with reference tokens, and a full 4-step denoise from the same
  noise with the same schedule. Older checkouts always build a guidance embedding (klein has
  none): its output layer is zeroed so that it adds exactly 0, and the output says so.
- vae: our `Flux2Vae` against BFL's `flux2.autoencoder.AutoEncoder` (with `--flux2-src`) and
  against diffusers' `AutoencoderKLFlux2` when diffusers has it (encoder latents and decoder
  output before our final clamp).
- text_encoder: our Qwen3 encoder against `transformers`' `Qwen3Model` (hidden states 9/18/27
  stacked) on prompts tokenized with the chat template and padded to 512.
- tokenizer: our BPE against `tokenizers` on a `tokenizer.json` (our tiny one, or `--tokenizer`)
  over a fixed list of prompts; the ids must be identical.

A section whose library is missing prints "skipped: <package> not installed". Exit code: 0 when
every compared error is within the tolerance, 1 when one exceeds it, 2 when a comparison that
was asked for could not run (a bad `--flux2-src`, a reference that fails to build).

Tolerances (relative): float32 1e-4; bfloat16 5e-2. bf16 carries 8 bits of mantissa (a rounding
step of 0.4 % relative), the two implementations round at different places (BFL adds the Euler
update in bf16, we in float32; RoPE angles are computed in float32 there and float64 here), and
the differences grow through 25 blocks and 4 steps, so a bf16 bound is necessarily loose; it
still catches a wrong layout or a missing term, which give errors of order 1.

`--self-reference` uses our own implementation as the reference through the same code path
(every error should be 0) and `--perturb-reference EPS` scales one reference weight by
(1 + EPS): together they check that the tool itself catches a difference.

Modules: `common` (results, error measures, the environment, shapes), one per section
(`transformer`, `vae`, `text`: text encoder and tokenizer) and `cli` (the driver and its output).
"""

from .cli import add_arguments, main, run

__all__ = ["add_arguments", "main", "run"]
