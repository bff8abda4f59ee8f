"""VAE checkpoints: BFL <-> diffusers names, shapes, config inference, building."""

import unittest

import torch

from fluxbot_klein.checkpoint.tiny import tiny_vae_state
from fluxbot_klein.checkpoint.vae import (
    build_vae,
    check_vae_shapes,
    detect_vae_layout,
    expected_shapes,
    infer_vae_config,
    to_bfl_vae_names,
    to_diffusers_vae_names,
)
from fluxbot_klein.errors import CheckpointError
from fluxbot_klein.models.vae import VaeConfig
from tests.models.test_vae import _tiny


class VaeNamesTest(unittest.TestCase):
    def test_diffusers_round_trip_gives_equal_outputs(self):
        config, state, vae = _tiny()
        diff = to_diffusers_vae_names(state)
        self.assertEqual(detect_vae_layout(diff), "diffusers")
        self.assertEqual(detect_vae_layout(state), "bfl")
        # diffusers facts: top-level quant convs, reversed up blocks, linear attention weights
        self.assertIn("quant_conv.weight", diff)
        self.assertIn("post_quant_conv.bias", diff)
        self.assertIn("encoder.conv_norm_out.weight", diff)
        self.assertIn("encoder.down_blocks.2.downsamplers.0.conv.weight", diff)
        self.assertTrue(torch.equal(diff["decoder.up_blocks.0.upsamplers.0.conv.weight"],
                                    state["decoder.up.3.upsample.conv.weight"]))
        self.assertTrue(torch.equal(diff["decoder.up_blocks.3.resnets.1.conv2.bias"],
                                    state["decoder.up.0.block.1.conv2.bias"]))
        self.assertEqual(tuple(diff["encoder.mid_block.attentions.0.to_q.weight"].shape), (32, 32))
        self.assertEqual(tuple(diff["decoder.mid_block.attentions.0.to_out.0.weight"].shape), (32, 32))
        self.assertIn("decoder.mid_block.attentions.0.group_norm.bias", diff)
        self.assertIn("encoder.mid_block.resnets.1.norm2.weight", diff)
        self.assertIn("bn.running_var", diff)
        self.assertFalse(any(k.startswith(("encoder.down.", "decoder.up.")) for k in diff))

        back = to_bfl_vae_names(diff)
        self.assertEqual(set(back), set(state))
        for k in state:
            self.assertTrue(torch.equal(back[k], state[k]), k)
        vae2 = build_vae(back, config)
        x = torch.rand(1, 3, 32, 48) * 2 - 1
        self.assertTrue(torch.equal(vae.encode(x), vae2.encode(x)))
        z = torch.randn(1, 128, 2, 3)
        self.assertTrue(torch.equal(vae.decode(z), vae2.decode(z)))

    def test_shortcut_names(self):
        config = VaeConfig(ch=32, ch_mult=(1, 2), num_res_blocks=1)
        shapes = expected_shapes(config)
        self.assertIn("encoder.down.1.block.0.nin_shortcut.weight", shapes)
        diff = expected_shapes(config, "diffusers")
        self.assertIn("encoder.down_blocks.1.resnets.0.conv_shortcut.weight", diff)
        # decoder up.0 (64 -> 32 channels) becomes up_blocks.1 in diffusers
        self.assertEqual(diff["decoder.up_blocks.1.resnets.0.conv_shortcut.weight"], (32, 64, 1, 1))
        self.assertEqual(to_bfl_vae_names(diff), shapes)

    def test_infer_config_at_real_shapes(self):
        real = expected_shapes(VaeConfig.klein())
        # a few facts of the real FLUX.2 autoencoder
        self.assertEqual(real["encoder.conv_in.weight"], (128, 3, 3, 3))
        self.assertEqual(real["encoder.conv_out.weight"], (64, 512, 3, 3))
        self.assertEqual(real["encoder.quant_conv.weight"], (64, 64, 1, 1))
        self.assertEqual(real["decoder.conv_in.weight"], (512, 32, 3, 3))
        self.assertEqual(real["decoder.up.0.block.0.nin_shortcut.weight"], (128, 256, 1, 1))
        self.assertEqual(real["decoder.up.3.block.2.conv2.weight"], (512, 512, 3, 3))
        self.assertEqual(real["bn.running_mean"], (128,))
        # the Hugging Face vae/ file: 250 float tensors (plus an int64 bn.num_batches_tracked),
        # 84,046,115 parameters besides the 2 x 128 BatchNorm statistics
        self.assertEqual(len(real), 250)
        params = sum(torch.Size(s).numel() for s in real.values())
        self.assertEqual(params - 256, 84_046_115)
        self.assertEqual(infer_vae_config(real), VaeConfig.klein())
        diff = expected_shapes(VaeConfig.klein(), "diffusers")
        self.assertEqual(diff["encoder.mid_block.attentions.0.to_k.weight"], (512, 512))
        with_counter = dict(diff, **{"bn.num_batches_tracked": ()})
        self.assertEqual(infer_vae_config(with_counter, layout="diffusers"), VaeConfig.klein())
        self.assertEqual(infer_vae_config(with_counter, layout=None), VaeConfig.klein())
        self.assertEqual(infer_vae_config({k: tuple(v.shape) for k, v in tiny_vae_state(VaeConfig.tiny()).items()}),
                         VaeConfig.tiny())

    def test_missing_tensor_names_it(self):
        config = VaeConfig.tiny()
        state = tiny_vae_state(config)
        del state["decoder.mid.attn_1.v.weight"]
        with self.assertRaises(CheckpointError) as ctx:
            build_vae(state, config)
        self.assertIn("decoder.mid.attn_1.v.weight", str(ctx.exception))
        self.assertIn("[32, 32, 1, 1]", str(ctx.exception))
        shapes = {k: tuple(v.shape) for k, v in state.items()}
        with self.assertRaises(CheckpointError) as ctx:
            infer_vae_config(shapes)
        self.assertIn("decoder.mid.attn_1.v.weight", str(ctx.exception))

    def test_misshapen_tensor_names_expected_and_found(self):
        config = VaeConfig.tiny()
        shapes = expected_shapes(config)
        shapes["bn.running_var"] = (64,)
        with self.assertRaises(CheckpointError) as ctx:
            check_vae_shapes(shapes, config)
        msg = str(ctx.exception)
        self.assertIn("bn.running_var", msg)
        self.assertIn("[64]", msg)
        self.assertIn("[128]", msg)

    def test_unexpected_and_foreign_tensors(self):
        config = VaeConfig.tiny()
        shapes = dict(expected_shapes(config), **{"encoder.down.0.attn.0.q.weight": (32, 32, 1, 1)})
        with self.assertRaises(CheckpointError) as ctx:
            check_vae_shapes(shapes, config)
        self.assertIn("encoder.down.0.attn.0.q.weight", str(ctx.exception))
        with self.assertRaises(CheckpointError):
            detect_vae_layout({"img_in.weight": (3072, 128)})


if __name__ == "__main__":
    unittest.main()
