import math
import unittest

import torch

from fluxbot_klein.checkpoint import transformer as ckpt
from fluxbot_klein.checkpoint.tiny import tiny_transformer_state
from fluxbot_klein.models import transformer as tr
from fluxbot_klein.models.transformer import TransformerConfig

CTX = 48


def make_ids(b, n, axis, t=0):
    ids = torch.zeros(b, n, 4, dtype=torch.long)
    ids[..., 0] = t
    ids[..., axis] = torch.arange(n)
    return ids


def image_ids(b, h, w, t=0):
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    ids = torch.stack([torch.full_like(ys, t), ys, xs, torch.zeros_like(ys)], dim=-1).reshape(1, h * w, 4)
    return ids.expand(b, -1, -1).clone()


class Fixture:
    config = TransformerConfig.tiny(CTX)
    state = tiny_transformer_state(config, seed=0)
    model = ckpt.build_transformer(state, config)

    @staticmethod
    def inputs(b=2, h=3, w=4, l=5, seed=1):
        g = torch.Generator().manual_seed(seed)
        img = torch.randn(b, h * w, 128, generator=g)
        txt = torch.randn(b, l, CTX, generator=g)
        return img, image_ids(b, h, w), txt, make_ids(b, l, 3), torch.rand(b, generator=g)


class ForwardTest(unittest.TestCase):
    def test_shapes_and_dtype(self):
        img, ids, txt, tids, t = Fixture.inputs(b=2, h=3, w=4, l=7)
        out = Fixture.model(img, ids, txt, tids, t)
        self.assertEqual(tuple(out.shape), (2, 12, 128))
        self.assertEqual(out.dtype, torch.float32)
        self.assertTrue(torch.isfinite(out).all())
        self.assertGreater(out.std().item(), 0.1)
        # ids without a batch dimension broadcast over the batch
        out2 = Fixture.model(img, ids[0], txt, tids[0], t)
        self.assertTrue(torch.allclose(out, out2, atol=1e-6))

    def test_deterministic_and_batch_independent(self):
        img, ids, txt, tids, t = Fixture.inputs(b=3)
        a = Fixture.model(img, ids, txt, tids, t)
        b = Fixture.model(img, ids, txt, tids, t)
        self.assertTrue(torch.equal(a, b))
        single = Fixture.model(img[1:2], ids[1:2], txt[1:2], tids[1:2], t[1:2])
        self.assertTrue(torch.allclose(a[1:2], single, atol=1e-5))

    def test_inputs_matter(self):
        img, ids, txt, tids, t = Fixture.inputs(b=1)
        base = Fixture.model(img, ids, txt, tids, t)
        self.assertFalse(torch.allclose(base, Fixture.model(img, ids, txt + 0.5, tids, t), atol=1e-4))
        self.assertFalse(torch.allclose(base, Fixture.model(img, ids, txt, tids, t * 0.5), atol=1e-4))
        # swapping two image tokens' positions changes their outputs (positions are used)
        ids2 = ids.clone()
        ids2[:, [0, 5]] = ids[:, [5, 0]]
        self.assertFalse(torch.allclose(base, Fixture.model(img, ids2, txt, tids, t), atol=1e-4))

    def test_bfloat16(self):
        model = ckpt.build_transformer(Fixture.state, Fixture.config, dtype=torch.bfloat16)
        self.assertEqual(model.img_in.weight.dtype, torch.bfloat16)
        img, ids, txt, tids, t = Fixture.inputs(b=1)
        # 1000·t is computed in the model dtype (as BFL does); at t = 0.5 that is exact in bf16 too
        t = torch.full_like(t, 0.5)
        out = model(img, ids, txt, tids, t)
        self.assertEqual(out.dtype, torch.bfloat16)
        ref = Fixture.model(img, ids, txt, tids, t)
        self.assertLess((out.float() - ref).abs().mean().item(), 0.1 * ref.abs().mean().item())

    def test_time_is_scaled_in_the_model_dtype(self):
        t = torch.tensor([0.7])
        self.assertEqual(tr.timestep_embedding(t.to(torch.bfloat16)).shape, (1, tr.TIME_EMBED_DIM))
        low = tr.timestep_embedding(t.to(torch.bfloat16))
        exact = tr.timestep_embedding(torch.tensor([700.0 / tr.TIME_FACTOR], dtype=torch.float64).float())
        # bf16: 0.7 -> 0.69921875, times 1000 in bf16 -> 700 (BFL's reference), not 699.22
        self.assertTrue(torch.allclose(low, exact, atol=1e-3))

    def test_eval_no_grad(self):
        self.assertFalse(Fixture.model.training)
        self.assertTrue(all(not p.requires_grad for p in Fixture.model.parameters()))
        names = {n for n, _ in Fixture.model.named_parameters()}
        self.assertEqual(names, set(ckpt.expected_shapes(Fixture.config, "bfl")))

    def test_guidance_embed(self):
        c = TransformerConfig(**{**Fixture.config.__dict__, "guidance_embed": True})
        model = ckpt.build_transformer(tiny_transformer_state(c), c)
        img, ids, txt, tids, t = Fixture.inputs(b=1)
        with self.assertRaises(ValueError):
            model(img, ids, txt, tids, t)
        a = model(img, ids, txt, tids, t, guidance=torch.tensor([1.0]))
        b = model(img, ids, txt, tids, t, guidance=torch.tensor([4.0]))
        self.assertFalse(torch.allclose(a, b, atol=1e-4))


class RopeTest(unittest.TestCase):
    def test_shift_invariance_of_scores(self):
        g = torch.Generator().manual_seed(3)
        q = torch.randn(1, 2, 6, 32, generator=g)
        k = torch.randn(1, 2, 6, 32, generator=g)
        ids = torch.randint(0, 50, (1, 6, 4), generator=g)
        axes = (8, 8, 8, 8)

        def scores(pos):
            pe = tr.rope_embedding(pos, axes, 2000)
            return tr.apply_rope(q, pe) @ tr.apply_rope(k, pe).transpose(-1, -2)

        base = scores(ids)
        for axis in range(4):
            shifted = ids.clone()
            shifted[..., axis] += 37
            self.assertTrue(torch.allclose(base, scores(shifted), atol=1e-4), axis)
        moved = ids.clone()
        moved[0, 0, 1] += 5  # one token moves: its scores change
        self.assertFalse(torch.allclose(base, scores(moved), atol=1e-3))

    def test_rotation_matches_complex_multiplication(self):
        g = torch.Generator().manual_seed(4)
        x = torch.randn(1, 1, 3, 32, generator=g)
        ids = torch.tensor([[[1, 2, 3, 4], [0, 7, 0, 0], [20, 0, 5, 9]]])
        out = tr.apply_rope(x, tr.rope_embedding(ids, (8, 8, 8, 8), 2000))
        for n in range(3):
            for pair in range(16):
                axis, j = divmod(pair, 4)  # 4 pairs per axis of 8 dims
                angle = ids[0, n, axis].item() * 2000 ** (-(2 * j) / 8)
                z = complex(x[0, 0, n, 2 * pair].item(), x[0, 0, n, 2 * pair + 1].item())
                r = z * complex(math.cos(angle), math.sin(angle))
                self.assertAlmostEqual(out[0, 0, n, 2 * pair].item(), r.real, places=4)
                self.assertAlmostEqual(out[0, 0, n, 2 * pair + 1].item(), r.imag, places=4)

    def test_model_invariant_to_shifting_an_axis(self):
        img, ids, txt, tids, t = Fixture.inputs(b=1)
        base = Fixture.model(img, ids, txt, tids, t)
        for axis in range(4):
            ids2, tids2 = ids.clone(), tids.clone()
            ids2[..., axis] += 13
            tids2[..., axis] += 13
            out = Fixture.model(img, ids2, txt, tids2, t)
            self.assertTrue(torch.allclose(base, out, atol=1e-4), axis)

    def test_timestep_embedding(self):
        emb = tr.timestep_embedding(torch.tensor([0.0, 0.5]))
        self.assertEqual(tuple(emb.shape), (2, 256))
        self.assertTrue(torch.equal(emb[0, :128], torch.ones(128)))
        self.assertTrue(torch.equal(emb[0, 128:], torch.zeros(128)))
        self.assertAlmostEqual(emb[1, 0].item(), math.cos(500.0), places=4)
        self.assertAlmostEqual(emb[1, 128].item(), math.sin(500.0), places=4)
        f = math.exp(-math.log(10000) * 10 / 128)
        self.assertAlmostEqual(emb[1, 10].item(), math.cos(500.0 * f), places=4)


if __name__ == "__main__":
    unittest.main()
