"""Transformer checkpoints: diffusers <-> BFL names, shapes, config inference, building."""

import unittest

import torch

from fluxbot_klein.checkpoint import transformer as tr
from fluxbot_klein.errors import CheckpointError
from fluxbot_klein.models.transformer import TransformerConfig
from tests.models.test_transformer import CTX, Fixture


class ConfigTest(unittest.TestCase):
    def test_infer_real_shapes(self):
        for config, name in ((TransformerConfig.klein_4b(), "klein-4b"), (TransformerConfig.klein_9b(), "klein-9b")):
            for layout in ("bfl", "diffusers"):
                shapes = tr.expected_shapes(config, layout)
                self.assertEqual(tr.detect_layout(shapes), layout)
                inferred = tr.infer_transformer_config(shapes, layout)
                self.assertEqual(inferred, config)
                self.assertEqual(inferred.model_name, name)
        c4 = TransformerConfig.klein_4b()
        self.assertEqual((c4.depth_double, c4.depth_single, c4.hidden_size, c4.num_heads, c4.head_dim,
                          c4.context_in_dim), (5, 20, 3072, 24, 128, 7680))
        c9 = TransformerConfig.klein_9b()
        self.assertEqual((c9.depth_double, c9.depth_single, c9.hidden_size, c9.num_heads, c9.head_dim,
                          c9.context_in_dim), (8, 24, 4096, 32, 128, 12288))
        # bf16 size of the 4B single file is about 7.75 GB
        self.assertAlmostEqual(c4.parameter_count() * 2 / 1e9, 7.75, delta=0.05)

    def test_real_diffusers_names(self):
        shapes = tr.expected_shapes(TransformerConfig.klein_4b(), "diffusers")
        self.assertEqual(len(shapes), 169)  # tensors in FLUX.2-klein-4B/transformer
        self.assertEqual(shapes["transformer_blocks.0.attn.to_q.weight"], (3072, 3072))
        self.assertEqual(shapes["transformer_blocks.4.attn.norm_added_k.weight"], (128,))
        self.assertEqual(shapes["single_transformer_blocks.19.attn.to_qkv_mlp_proj.weight"],
                         (3 * 3072 + 2 * 9216, 3072))
        self.assertEqual(shapes["time_guidance_embed.timestep_embedder.linear_1.weight"], (3072, 256))
        self.assertNotIn("time_guidance_embed.guidance_embedder.linear_1.weight", shapes)
        bfl = tr.expected_shapes(TransformerConfig.klein_4b(), "bfl")
        self.assertEqual(bfl["double_blocks.0.img_attn.norm.query_norm.scale"], (128,))
        self.assertEqual(bfl["single_blocks.0.linear2.weight"], (3072, 3072 + 9216))

    def test_tiny_and_guidance_inferred(self):
        c = TransformerConfig.tiny(CTX)
        self.assertEqual(tr.infer_transformer_config(tr.expected_shapes(c)), c)
        self.assertEqual(c.model_name, "custom")
        g = TransformerConfig(**{**c.__dict__, "guidance_embed": True})
        self.assertTrue(tr.infer_transformer_config(tr.expected_shapes(g, "diffusers"), "diffusers").guidance_embed)

    def test_prefixed_bfl_names(self):
        shapes = {"model.diffusion_model." + k: v for k, v in tr.expected_shapes(TransformerConfig.klein_4b()).items()}
        self.assertEqual(tr.detect_layout(shapes), "bfl")
        self.assertEqual(tr.infer_transformer_config(shapes).model_name, "klein-4b")

    def test_block_gap(self):
        shapes = tr.expected_shapes(TransformerConfig.klein_4b())
        shapes = {k: v for k, v in shapes.items() if not k.startswith("double_blocks.2.")}
        with self.assertRaises(CheckpointError) as cm:
            tr.infer_transformer_config(shapes)
        self.assertIn("double_blocks.2", str(cm.exception))
        shapes = tr.expected_shapes(TransformerConfig.klein_9b(), "diffusers")
        shapes = {k: v for k, v in shapes.items() if not k.startswith("single_transformer_blocks.7.")}
        with self.assertRaises(CheckpointError) as cm:
            tr.infer_transformer_config(shapes, "diffusers")
        self.assertIn("single_blocks.7", str(cm.exception))

    def test_missing_tensors(self):
        shapes = dict(tr.expected_shapes(TransformerConfig.klein_4b()))
        for i in range(20):
            del shapes[f"single_blocks.{i}.norm.key_norm.scale"]
        with self.assertRaises(CheckpointError) as cm:
            tr.infer_transformer_config(shapes)
        msg = str(cm.exception)
        self.assertIn("lacks 20 of", msg)
        self.assertIn("single_blocks.0.norm.key_norm.scale", msg)
        with self.assertRaises(CheckpointError) as cm:
            tr.infer_transformer_config({k: v for k, v in shapes.items() if k != "img_in.weight"})
        self.assertIn("img_in.weight", str(cm.exception))

    def test_wrong_shape(self):
        shapes = dict(tr.expected_shapes(TransformerConfig.klein_4b()))
        shapes["double_blocks.3.txt_mlp.0.weight"] = (18432, 3000)
        with self.assertRaises(CheckpointError) as cm:
            tr.infer_transformer_config(shapes)
        msg = str(cm.exception)
        self.assertIn("double_blocks.3.txt_mlp.0.weight", msg)
        self.assertIn("[18432, 3000]", msg)
        self.assertIn("[18432, 3072]", msg)

    def test_build_checks_state(self):
        state = dict(Fixture.state)
        del state["final_layer.linear.weight"]
        with self.assertRaises(CheckpointError) as cm:
            tr.build_transformer(state, Fixture.config)
        self.assertIn("final_layer.linear.weight", str(cm.exception))
        with self.assertRaises(CheckpointError) as cm:
            tr.build_transformer(Fixture.state, TransformerConfig.tiny(CTX + 1))
        self.assertIn("txt_in.weight", str(cm.exception))
        extra = dict(Fixture.state, **{"double_blocks.0.img_mod.lin.weight": torch.zeros(1)})
        with self.assertRaises(CheckpointError) as cm:
            tr.build_transformer(extra, Fixture.config)
        self.assertIn("img_mod", str(cm.exception))

    def test_not_a_transformer(self):
        with self.assertRaises(CheckpointError) as cm:
            tr.detect_layout({"encoder.conv_in.weight": (1,)})
        self.assertIn("encoder.conv_in.weight", str(cm.exception))
        flux1 = {"img_in.weight": (3072, 64), "img_in.bias": (3072,), "txt_in.weight": (3072, 4096),
                 "double_blocks.0.img_attn.norm.query_norm.scale": (128,),
                 "double_blocks.0.img_mlp.2.weight": (3072, 12288), "double_blocks.0.img_mod.lin.weight": (1, 1),
                 "single_blocks.0.linear1.weight": (1, 1)}
        with self.assertRaises(CheckpointError):
            tr.infer_transformer_config(flux1)


class NameMappingTest(unittest.TestCase):
    def test_round_trip_tensors(self):
        diff = tr.to_diffusers_names(Fixture.state)
        self.assertEqual(set(diff), set(tr.expected_shapes(Fixture.config, "diffusers")))
        back = tr.to_bfl_names(diff)
        self.assertEqual(set(back), set(Fixture.state))
        for k, v in Fixture.state.items():
            self.assertTrue(torch.equal(back[k], v), k)

    def test_mapping_details(self):
        s = Fixture.state
        d = tr.to_diffusers_names(s)
        h = Fixture.config.hidden_size
        qkv = s["double_blocks.1.txt_attn.qkv.weight"]
        self.assertTrue(torch.equal(d["transformer_blocks.1.attn.add_q_proj.weight"], qkv[:h]))
        self.assertTrue(torch.equal(d["transformer_blocks.1.attn.add_k_proj.weight"], qkv[h:2 * h]))
        self.assertTrue(torch.equal(d["transformer_blocks.1.attn.add_v_proj.weight"], qkv[2 * h:]))
        ada = s["final_layer.adaLN_modulation.1.weight"]  # BFL: (shift, scale); diffusers: (scale, shift)
        self.assertTrue(torch.equal(d["norm_out.linear.weight"][:h], ada[h:]))
        self.assertTrue(torch.equal(d["single_transformer_blocks.0.attn.norm_q.weight"],
                                    s["single_blocks.0.norm.query_norm.scale"]))
        self.assertTrue(torch.equal(d["transformer_blocks.0.ff_context.linear_out.weight"],
                                    s["double_blocks.0.txt_mlp.2.weight"]))

    def test_diffusers_state_gives_same_outputs(self):
        diff = tr.to_diffusers_names(Fixture.state)
        config = tr.infer_transformer_config({k: tuple(v.shape) for k, v in diff.items()}, "diffusers")
        self.assertEqual(config, Fixture.config)
        model = tr.build_transformer(tr.to_bfl_names(diff), config)
        img, ids, txt, tids, t = Fixture.inputs(b=1)
        self.assertTrue(torch.equal(model(img, ids, txt, tids, t), Fixture.model(img, ids, txt, tids, t)))

    def test_fused_diffusers_projections(self):
        d = tr.to_diffusers_names(Fixture.state)
        for stream, names in (("to_qkv", ("to_q", "to_k", "to_v")),
                              ("to_added_qkv", ("add_q_proj", "add_k_proj", "add_v_proj"))):
            parts = [d.pop(f"transformer_blocks.0.attn.{n}.weight") for n in names]
            d[f"transformer_blocks.0.attn.{stream}.weight"] = torch.cat(parts)
        back = tr.to_bfl_names(d)
        self.assertTrue(torch.equal(back["double_blocks.0.img_attn.qkv.weight"],
                                    Fixture.state["double_blocks.0.img_attn.qkv.weight"]))

    def test_incomplete_split_and_unknown(self):
        d = tr.to_diffusers_names(Fixture.state)
        del d["transformer_blocks.1.attn.to_k.weight"]
        with self.assertRaises(CheckpointError) as cm:
            tr.to_bfl_names(d)
        self.assertIn("transformer_blocks.1.attn.to_k.weight", str(cm.exception))
        d = tr.to_diffusers_names(Fixture.state)
        d["transformer_blocks.0.attn.mystery.weight"] = torch.zeros(1)
        with self.assertRaises(CheckpointError) as cm:
            tr.to_bfl_names(d)
        self.assertIn("mystery", str(cm.exception))

    def test_dequantize(self):
        state = {"img_in.weight": torch.tensor([[2.0, -4.0]], dtype=torch.float16),
                 "img_in.weight_scale": torch.tensor(0.5),
                 "img_in.input_scale": torch.tensor(3.0),
                 "txt_in.weight": torch.tensor([[1.0]])}
        out = tr.dequantize_state(state, torch.float32)
        self.assertEqual(set(out), {"img_in.weight", "txt_in.weight"})
        self.assertEqual(out["img_in.weight"].tolist(), [[1.0, -2.0]])
        self.assertEqual(out["img_in.weight"].dtype, torch.float32)


if __name__ == "__main__":
    unittest.main()
