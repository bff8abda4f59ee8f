import unittest
from unittest import mock

import torch
import torch.nn.functional as F

from fluxbot_klein.checkpoint.tiny import tiny_vae_state
from fluxbot_klein.checkpoint.vae import build_vae
from fluxbot_klein.models.vae import BN_EPS, VaeConfig, patchify, unpatchify


def _tiny():
    config = VaeConfig.tiny()
    state = tiny_vae_state(config, seed=3)
    return config, state, build_vae(state, config)


class VaeShapesTest(unittest.TestCase):
    def test_encode_and_decode_shapes(self):
        config, _, vae = _tiny()
        x = torch.rand(2, 3, 64, 64) * 2 - 1
        z = vae.encode(x)
        self.assertEqual(tuple(z.shape), (2, 128, 4, 4))
        self.assertEqual(z.dtype, torch.float32)
        self.assertTrue(torch.isfinite(z).all())
        y = vae.decode(z)
        self.assertEqual(tuple(y.shape), (2, 3, 64, 64))
        self.assertTrue(torch.isfinite(y).all())
        self.assertLessEqual(float(y.abs().max()), 1.0)
        self.assertEqual(config.latent_channels, 128)
        self.assertEqual(config.downscale, 16)

    def test_non_square_and_batch_independence(self):
        _, _, vae = _tiny()
        x = torch.rand(2, 3, 32, 80) * 2 - 1
        z = vae.encode(x)
        self.assertEqual(tuple(z.shape), (2, 128, 2, 5))
        one = vae.encode(x[1:])
        self.assertTrue(torch.allclose(z[1:], one, atol=1e-5))
        self.assertEqual(tuple(vae.decode(z).shape), (2, 3, 32, 80))

    def test_encode_refuses_sizes_not_multiple_of_16(self):
        _, _, vae = _tiny()
        with self.assertRaises(ValueError):
            vae.encode(torch.zeros(1, 3, 40, 64))


class VaeLatentTest(unittest.TestCase):
    def test_patchify_channel_order(self):
        z = torch.randn(2, 5, 6, 8)
        p = patchify(z)
        self.assertEqual(tuple(p.shape), (2, 20, 3, 4))
        for c in range(5):
            for pi in range(2):
                for pj in range(2):
                    # channel c*4 + pi*2 + pj holds z[c, 2i+pi, 2j+pj]: pj varies fastest
                    self.assertTrue(torch.equal(p[:, c * 4 + pi * 2 + pj], z[:, c, pi::2, pj::2]))
        self.assertTrue(torch.equal(unpatchify(p), z))

    def test_normalize_uses_running_stats_with_eps_1e4(self):
        config, state, vae = _tiny()
        z = torch.randn(1, 128, 3, 2)
        n = vae.normalize(z)
        mean = state["bn.running_mean"].view(1, -1, 1, 1)
        std = torch.sqrt(state["bn.running_var"].view(1, -1, 1, 1) + 1e-4)
        self.assertEqual(BN_EPS, 1e-4)
        self.assertTrue(torch.allclose(n, (z - mean) / std, atol=1e-6))
        self.assertTrue(torch.allclose(vae.denormalize(n), z, atol=1e-5))
        # the same as torch's BatchNorm2d in eval mode with these statistics
        bn = torch.nn.BatchNorm2d(128, eps=1e-4, affine=False)
        bn.running_mean.copy_(state["bn.running_mean"])
        bn.running_var.copy_(state["bn.running_var"])
        bn.eval()
        self.assertTrue(torch.allclose(n, bn(z), atol=1e-5))

    def test_encode_is_posterior_mean_patchified_then_normalized(self):
        _, _, vae = _tiny()
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        moments = vae.encoder(x)
        self.assertEqual(moments.shape[1], 64)  # mean and logvar, 2 x 32
        expected = vae.normalize(patchify(moments[:, :32]))
        self.assertTrue(torch.allclose(vae.encode(x), expected, atol=1e-5))

    def test_downsample_pads_right_and_bottom_only(self):
        _, _, vae = _tiny()
        down = vae.encoder.down[0].downsample
        x = torch.randn(1, 32, 8, 8)
        manual = F.conv2d(F.pad(x, (0, 1, 0, 1)), down.conv.weight, down.conv.bias, stride=2)
        self.assertTrue(torch.allclose(down(x), manual, atol=1e-6))
        symmetric = F.conv2d(x, down.conv.weight, down.conv.bias, stride=2, padding=1)
        self.assertFalse(torch.allclose(down(x), symmetric, atol=1e-3))
        self.assertEqual(tuple(down(x).shape), (1, 32, 4, 4))

    def test_mid_attention_is_single_head_over_positions(self):
        _, _, vae = _tiny()
        attn = vae.encoder.mid.attn_1
        x = torch.randn(2, 32, 36, 30)  # 1080 positions: more than one chunk of the plain path
        n = F.group_norm(x, 32, attn.norm.weight, attn.norm.bias, eps=1e-6)

        def proj(conv):
            return torch.einsum("oc,bchw->bohw", conv.weight[:, :, 0, 0], n) + conv.bias.view(1, -1, 1, 1)

        q, k, v = (proj(m).flatten(2) for m in (attn.q, attn.k, attn.v))  # [B, C, N]
        w = torch.softmax(torch.einsum("bcn,bcm->bnm", q, k) / 32 ** 0.5, dim=-1)
        a = torch.einsum("bnm,bcm->bcn", w, v).reshape(2, 32, 36, 30)
        out = x + torch.einsum("oc,bchw->bohw", attn.proj_out.weight[:, :, 0, 0], a) + attn.proj_out.bias.view(1, -1, 1, 1)
        self.assertTrue(torch.allclose(attn(x), out, atol=1e-5))

    def test_fused_attention_path_matches_fallback(self):
        _, _, vae = _tiny()
        attn = vae.decoder.mid.attn_1
        x = torch.randn(2, 32, 4, 3)
        seen = []

        def fake_sdpa(q, k, v):
            seen.append(q.dim())
            w = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
            return w @ v

        with mock.patch.object(F, "scaled_dot_product_attention", fake_sdpa, create=True):
            fused = attn(x)
        self.assertEqual(seen, [4])
        with mock.patch.object(F, "scaled_dot_product_attention", None, create=True):
            plain = attn(x)
        self.assertTrue(torch.allclose(fused, plain, atol=1e-5))

    def test_bfloat16_build_keeps_stats_float32(self):
        config, state, vae = _tiny()
        half = build_vae(state, config, dtype=torch.bfloat16)
        self.assertEqual(half.dtype, torch.bfloat16)
        self.assertEqual(half.bn.running_var.dtype, torch.float32)
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        self.assertLess(float((half.encode(x) - vae.encode(x)).abs().max()), 0.5)

    def test_decoder_structure(self):
        config, _, vae = _tiny()
        self.assertEqual(len(vae.decoder.up), 4)
        self.assertEqual(len(vae.decoder.up[0].block), config.num_res_blocks + 1)
        self.assertFalse(hasattr(vae.decoder.up[0], "upsample"))
        self.assertTrue(hasattr(vae.decoder.up[3], "upsample"))


if __name__ == "__main__":
    unittest.main()
