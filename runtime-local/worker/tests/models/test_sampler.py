import math
import unittest

import torch

from fluxbot_klein.checkpoint.tiny import tiny_transformer_state
from fluxbot_klein.checkpoint.transformer import build_transformer
from fluxbot_klein.models import sampler as sm
from fluxbot_klein.models import transformer as tr

CTX = 48


def hand_mu(seq, steps):
    # Linear in steps through the two fitted lines at 10 and 200 steps; one line past 4300 tokens.
    if seq > 4300:
        return 0.00016927 * seq + 0.45666666
    m10 = 8.73809524e-05 * seq + 1.89833333
    m200 = 0.00016927 * seq + 0.45666666
    return m10 + (steps - 10) * (m200 - m10) / (200 - 10)


class ScheduleTest(unittest.TestCase):
    def test_mu(self):
        self.assertAlmostEqual(sm.compute_empirical_mu(4096, 4), 2.29118, places=4)
        for seq, steps in ((256, 4), (1024, 4), (4096, 4), (4096, 50), (4300, 28), (4301, 4), (16384, 50)):
            self.assertAlmostEqual(sm.compute_empirical_mu(seq, steps), hand_mu(seq, steps), places=9)
        # past 4300 tokens the step count does not matter
        self.assertEqual(sm.compute_empirical_mu(8000, 4), sm.compute_empirical_mu(8000, 50))
        self.assertIsInstance(sm.compute_empirical_mu(100, 4), float)

    def test_schedule(self):
        for steps, seq in ((4, 4096), (4, 1024), (50, 4096), (1, 256), (28, 16384)):
            s = sm.get_schedule(steps, seq)
            self.assertEqual(len(s), steps + 1)
            self.assertEqual(s[0], 1.0)
            self.assertEqual(s[-1], 0.0)
            self.assertTrue(all(a > b for a, b in zip(s, s[1:])), s)
            e = math.exp(hand_mu(seq, steps))
            for i in range(1, steps):
                t = 1 - i / steps
                self.assertAlmostEqual(s[i], e / (e + 1 / t - 1), places=5)
        # 4 steps at 1024x1024: the shift pushes all times toward the noisy end
        s = sm.get_schedule(4, 4096)
        self.assertGreater(s[2], 0.5)
        with self.assertRaises(ValueError):
            sm.get_schedule(0, 4096)


class IdsAndPackingTest(unittest.TestCase):
    def test_image_ids(self):
        ids = sm.image_ids(2, 3)
        self.assertEqual(ids.dtype, torch.long)
        self.assertEqual(ids.tolist(), [[0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 2, 0],
                                        [0, 1, 0, 0], [0, 1, 1, 0], [0, 1, 2, 0]])
        self.assertEqual(sm.image_ids(1, 2, t=5).tolist(), [[5, 0, 0, 0], [5, 0, 1, 0]])

    def test_reference_and_text_ids(self):
        self.assertTrue((sm.reference_ids(0, 2, 2)[:, 0] == 10).all())
        r = sm.reference_ids(2, 3, 2)
        self.assertTrue((r[:, 0] == 30).all())
        self.assertEqual(r[:, 1:].tolist(), sm.image_ids(3, 2)[:, 1:].tolist())
        self.assertEqual(sm.text_ids(3).tolist(), [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2]])

    def test_pack_unpack(self):
        x = torch.randn(2, 5, 3, 4)
        tokens = sm.pack(x)
        self.assertEqual(tuple(tokens.shape), (2, 12, 5))
        ids = sm.image_ids(3, 4)
        for i in range(12):  # token i sits at the (h, w) its id names
            y, xx = ids[i, 1].item(), ids[i, 2].item()
            self.assertTrue(torch.equal(tokens[1, i], x[1, :, y, xx]))
        self.assertTrue(torch.equal(sm.unpack(tokens, 3, 4), x))
        with self.assertRaises(ValueError):
            sm.unpack(tokens, 4, 4)

    def test_pack_references(self):
        a, b = torch.randn(4, 2, 3), torch.randn(1, 4, 1, 2)
        tokens, ids = sm.pack_references([a, b])
        self.assertEqual(tuple(tokens.shape), (1, 8, 4))
        self.assertEqual(ids[:6, 0].tolist(), [10] * 6)
        self.assertEqual(ids[6:, 0].tolist(), [20] * 2)
        self.assertTrue(torch.equal(tokens[0, 6:], sm.pack(b)[0]))


class NoiseTest(unittest.TestCase):
    def test_independent_of_batch_position(self):
        a = sm.initial_noise([5, 7, 9], 4, 3, 2, "cpu", torch.float32)
        self.assertEqual(tuple(a.shape), (3, 4, 3, 2))
        b = sm.initial_noise([9, 5], 4, 3, 2, "cpu", torch.float32)
        self.assertTrue(torch.equal(a[0], b[1]))
        self.assertTrue(torch.equal(a[2], b[0]))
        g = torch.Generator().manual_seed(7)
        self.assertTrue(torch.equal(a[1], torch.randn((4, 3, 2), generator=g)))

    def test_seeds_differ_and_dtype(self):
        a = sm.initial_noise([1, 2], 8, 4, 4, "cpu", torch.bfloat16)
        self.assertEqual(a.dtype, torch.bfloat16)
        self.assertFalse(torch.equal(a[0], a[1]))
        same = sm.initial_noise([4294967295, 4294967295], 8, 4, 4, "cpu", torch.float32)
        self.assertTrue(torch.equal(same[0], same[1]))
        self.assertAlmostEqual(sm.initial_noise([3], 128, 32, 32).std().item(), 1.0, delta=0.05)


class ConstantModel:
    """A stand-in transformer: velocity = token index (so dropped reference predictions show)."""

    def __init__(self):
        self.calls = []

    def __call__(self, img, img_ids, txt, txt_ids, t, guidance=None):
        self.calls.append((tuple(img.shape), img_ids.clone(), tuple(txt.shape), t.clone()))
        return torch.arange(img.shape[1], dtype=img.dtype)[None, :, None].expand_as(img)


class DenoiseTest(unittest.TestCase):
    config = tr.TransformerConfig.tiny(CTX)
    model = build_transformer(tiny_transformer_state(config, seed=2), config)

    def setUp(self):
        g = torch.Generator().manual_seed(0)
        self.h, self.w = 3, 4
        self.img = sm.pack(sm.initial_noise([1, 2], 128, self.h, self.w))
        self.img_ids = sm.image_ids(self.h, self.w)
        self.txt = torch.randn(2, 6, CTX, generator=g)
        self.txt_ids = sm.text_ids(6)
        self.uncond = torch.randn(1, 6, CTX, generator=g)
        self.ref, self.ref_ids = sm.pack_references([torch.randn(128, 2, 2, generator=g),
                                                     torch.randn(128, 1, 3, generator=g)])
        self.schedule = sm.get_schedule(3, self.h * self.w)

    def test_constant_velocity_and_reference_drop(self):
        model = ConstantModel()
        steps = []
        out = sm.denoise(model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule,
                         ref=self.ref, ref_ids=self.ref_ids, on_step=lambda s, n: steps.append((s, n)))
        self.assertEqual(steps, [(1, 3), (2, 3), (3, 3)])
        # sum of (t_next - t) is -1: x_0 = noise - v, with v the image tokens' own indices
        expected = self.img - torch.arange(12, dtype=torch.float32)[None, :, None]
        self.assertTrue(torch.allclose(out, expected, atol=1e-5))
        shape, ids, txt_shape, t = model.calls[0]
        self.assertEqual(shape, (2, 12 + 7, 128))
        self.assertEqual(ids[0, :12].tolist(), self.img_ids.tolist())
        self.assertEqual(ids[0, 12:].tolist(), self.ref_ids.tolist())
        self.assertEqual(t.tolist(), [1.0, 1.0])
        self.assertAlmostEqual(model.calls[1][3][0].item(), self.schedule[1], places=6)

    def test_tiny_model(self):
        steps = []
        out = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule,
                         on_step=lambda s, n: steps.append((s, n)))
        self.assertEqual(tuple(out.shape), tuple(self.img.shape))
        self.assertEqual(len(steps), 3)
        self.assertTrue(torch.isfinite(out).all())
        self.assertFalse(torch.allclose(out, self.img))
        again = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule)
        self.assertTrue(torch.equal(out, again))
        solo = sm.denoise(self.model, self.img[1:], self.img_ids, self.txt[1:], self.txt_ids, self.schedule)
        self.assertTrue(torch.allclose(out[1:], solo, atol=1e-5))

    def test_references(self):
        plain = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule)
        with_ref = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule,
                              ref=self.ref, ref_ids=self.ref_ids)
        self.assertEqual(with_ref.shape, plain.shape)
        self.assertFalse(torch.allclose(with_ref, plain, atol=1e-4))
        with self.assertRaises(ValueError):
            sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule, ref=self.ref)

    def test_cfg(self):
        plain = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule)
        cfg = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule,
                         guidance_scale=4.0, uncond_txt=self.uncond, uncond_txt_ids=self.txt_ids)
        self.assertEqual(cfg.shape, plain.shape)
        self.assertFalse(torch.allclose(cfg, plain, atol=1e-3))
        # scale 1 is the conditional prediction alone
        one = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, self.schedule,
                         guidance_scale=1.0, uncond_txt=self.uncond, uncond_txt_ids=self.txt_ids)
        self.assertTrue(torch.allclose(one, plain, atol=1e-4))

    def test_cfg_one_step_by_hand(self):
        sched = [1.0, 0.0]
        t = torch.ones(2)
        ids = torch.cat((self.img_ids, self.ref_ids))[None].expand(2, -1, -1)
        x = torch.cat((self.img, self.ref.expand(2, -1, -1)), dim=1)
        pc = self.model(x, ids, self.txt, self.txt_ids[None].expand(2, -1, -1), t)[:, :12]
        short = self.uncond[:, :4]
        pu = self.model(x, ids, short.expand(2, -1, -1), sm.text_ids(4)[None].expand(2, -1, -1), t)[:, :12]
        expected = self.img - (pu + 3.0 * (pc - pu))
        # uncond of another length: two model calls per step
        out = sm.denoise(self.model, self.img, self.img_ids, self.txt, self.txt_ids, sched, ref=self.ref,
                         ref_ids=self.ref_ids, guidance_scale=3.0, uncond_txt=short, uncond_txt_ids=sm.text_ids(4))
        self.assertTrue(torch.allclose(out, expected, atol=1e-4))

    def test_bfloat16_latents(self):
        model = build_transformer(tiny_transformer_state(self.config, seed=2), self.config, dtype=torch.bfloat16)
        out = sm.denoise(model, self.img.bfloat16(), self.img_ids, self.txt, self.txt_ids, self.schedule)
        self.assertEqual(out.dtype, torch.bfloat16)
        self.assertTrue(torch.isfinite(out.float()).all())


if __name__ == "__main__":
    unittest.main()
