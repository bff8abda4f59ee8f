"""KleinPipeline on the tiny checkpoint: determinism, batching, references, caches, CFG."""

import dataclasses
import io
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

from fluxbot_klein.errors import RequestError
from fluxbot_klein.checkpoint.loader import load_klein
from fluxbot_klein.pipeline import GenerateRequest, KleinPipeline
from fluxbot_klein.checkpoint.tiny import write_tiny_checkpoint

MODEL = None
ROOT = None


def setUpModule():
    global MODEL, ROOT
    ROOT = tempfile.mkdtemp(prefix="klein-pipeline-")
    MODEL = load_klein(write_tiny_checkpoint(ROOT, "hf"))


def tearDownModule():
    shutil.rmtree(ROOT)


def req(prompt="a red fox in snow", seed=1, width=64, height=64, steps=2, **kw):
    return GenerateRequest(prompt=prompt, width=width, height=height, seed=seed, steps=steps, **kw)


def pixels(image):
    return np.asarray(Image.open(io.BytesIO(image.data)).convert("RGB")).astype(np.int16)


def reference(seed, width=64, height=48):
    g = torch.Generator().manual_seed(seed)
    return torch.rand((3, height, width), generator=g) * 2 - 1


class PipelineTest(unittest.TestCase):
    def setUp(self):
        self.pipe = KleinPipeline(MODEL)

    def test_defaults(self):
        self.assertEqual((self.pipe.default_steps, self.pipe.default_guidance), (4, None))
        base = KleinPipeline(dataclasses.replace(MODEL, variant="base"))
        self.assertEqual((base.default_steps, base.default_guidance), (50, 4.0))
        self.assertEqual((self.pipe.max_references, self.pipe.max_prompt_tokens), (4, 512))

    def test_same_seed_same_bytes_other_seed_other_image(self):
        steps = []
        a = self.pipe.generate([req(seed=7)], lambda s, n: steps.append((s, n)))[0]
        b = KleinPipeline(MODEL).generate([req(seed=7)])[0]
        c = self.pipe.generate([req(seed=8)])[0]
        self.assertEqual(a.data, b.data)
        self.assertNotEqual(a.data, c.data)
        self.assertEqual(steps, [(1, 2), (2, 2)])
        self.assertEqual((a.seed, a.width, a.height, a.format), (7, 64, 64, "png"))
        self.assertIsInstance(a.elapsed_ms, int)
        self.assertEqual(Image.open(io.BytesIO(a.data)).size, (64, 64))

    def test_batch_of_two_equals_two_singles(self):
        r1, r2 = req(prompt="a red fox", seed=1), req(prompt="a lighthouse in a storm", seed=2)
        batch = self.pipe.generate([r1, r2])
        singles = [self.pipe.generate([r])[0] for r in (r1, r2)]
        for got, want in zip(batch, singles):
            diff = np.abs(pixels(got) - pixels(want)).max()
            self.assertLessEqual(diff, 1, "a batch must give the same images as single runs")
        self.assertGreater(np.abs(pixels(batch[0]) - pixels(batch[1])).max(), 10)

    def test_mixed_sizes_split_and_keep_order(self):
        progress = []
        out = self.pipe.generate([req(width=64, height=96), req(width=96, height=64, seed=2), req(seed=3, height=96)],
                                 lambda s, n: progress.append((s, n)))
        self.assertEqual([(o.width, o.height, o.seed) for o in out], [(64, 96, 1), (96, 64, 2), (64, 96, 3)])
        for o in out:
            self.assertEqual(Image.open(io.BytesIO(o.data)).size, (o.width, o.height))
        self.assertEqual(progress, [(1, 4), (2, 4), (3, 4), (4, 4)])

    def test_references_change_the_output_and_are_cached(self):
        plain = self.pipe.generate([req()])[0]
        ref = reference(5)
        with_ref = self.pipe.generate([req(references=[ref])])[0]
        self.assertNotEqual(plain.data, with_ref.data)
        self.assertEqual(self.pipe.reference_cache.misses, 1)
        again = self.pipe.generate([req(references=[ref.clone()])])[0]
        self.assertEqual(again.data, with_ref.data)
        self.assertEqual(self.pipe.reference_cache.hits, 1)
        other = self.pipe.generate([req(references=[reference(6)])])[0]
        self.assertNotEqual(other.data, with_ref.data)
        # two references, and a batch whose requests have different reference counts is split
        out = self.pipe.generate([req(references=[ref, reference(6, 32, 32)]), req(references=[ref]), req()])
        self.assertEqual(out[1].data, with_ref.data)
        self.assertEqual(out[2].data, plain.data)
        self.assertNotEqual(out[0].data, with_ref.data)

    def test_prompt_cache(self):
        pipe = KleinPipeline(MODEL, prompt_cache_size=2)
        pipe.generate([req(prompt="one")])
        self.assertEqual((pipe.prompt_cache.hits, pipe.prompt_cache.misses), (0, 1))
        pipe.generate([req(prompt="one", seed=2)])
        self.assertEqual(pipe.prompt_cache.hits, 1)
        with torch.inference_mode():
            emb = pipe.encode_prompts(["two", "three", "two"])
        self.assertEqual(tuple(emb.shape), (3, 512, MODEL.transformer.config.context_in_dim))
        self.assertTrue(torch.equal(emb[0], emb[2]))
        self.assertEqual(len(pipe.prompt_cache), 2)
        self.assertNotIn("one", pipe.prompt_cache.items)

    def test_base_variant_uses_cfg(self):
        base = KleinPipeline(dataclasses.replace(MODEL, variant="base"))
        g4 = base.generate([req(guidance=4.0)])[0]
        g1 = base.generate([req(guidance=1.5)])[0]
        distilled = self.pipe.generate([req(guidance=4.0)])[0]
        self.assertNotEqual(g4.data, g1.data)
        self.assertNotEqual(g4.data, distilled.data)
        self.assertIn("", base.prompt_cache.items)  # the empty prompt of CFG

    def test_output_formats(self):
        out = self.pipe.generate([req(output_format="jpeg"), req(output_format="png")])
        self.assertEqual(Image.open(io.BytesIO(out[0].data)).format, "JPEG")
        self.assertEqual(out[0].format, "jpeg")
        self.assertEqual(Image.open(io.BytesIO(out[1].data)).format, "PNG")

    def test_prompt_checks(self):
        self.pipe.check_prompt("a short prompt")
        with self.assertRaises(RequestError) as cm:
            self.pipe.check_prompt("fox " * 600)
        self.assertEqual((cm.exception.code, cm.exception.field), ("prompt_too_long", "prompt"))

    def test_decode_reference(self):
        buf = io.BytesIO()
        Image.new("RGB", (40, 70), (10, 20, 30)).save(buf, "PNG")
        x = self.pipe.decode_reference(buf.getvalue(), "references[0]")
        self.assertEqual(x.shape[0], 3)
        self.assertEqual((x.shape[1] % 16, x.shape[2] % 16), (0, 0))
        with self.assertRaises(RequestError) as cm:
            self.pipe.decode_reference(b"nope", "references[1]")
        self.assertEqual((cm.exception.code, cm.exception.field), ("bad_image", "references[1]"))

    def test_warmup_runs_once_per_size(self):
        calls = []
        original = self.pipe._render_batch

        def counting(batch, on_step):
            calls.append((batch[0].width, batch[0].height, batch[0].steps))
            return original(batch, on_step)

        self.pipe._render_batch = counting
        self.pipe.warmup([(64, 64), (96, 64)], steps=1)
        self.assertEqual(calls, [(64, 64, 1), (96, 64, 1)])


if __name__ == "__main__":
    unittest.main()
