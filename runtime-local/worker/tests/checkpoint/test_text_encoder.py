"""Text encoder checkpoints: Hugging Face names and shapes, config inference."""

import unittest

from fluxbot_klein.checkpoint.text_encoder import expected_shapes, hf_prefix, infer_qwen3_config, required_names
from fluxbot_klein.errors import CheckpointError
from fluxbot_klein.models.text_encoder import Qwen3Config

VOCAB = 100


class ShapeInferenceTest(unittest.TestCase):
    def test_qwen3_4b(self):
        real = Qwen3Config(vocab_size=151936, hidden_size=2560, num_layers=27, num_heads=32,
                           num_kv_heads=8, head_dim=128, intermediate_size=9728)
        shapes = expected_shapes(real, 36)
        self.assertEqual(shapes["model.layers.0.self_attn.q_proj.weight"], (4096, 2560))
        self.assertEqual(shapes["model.layers.0.self_attn.k_proj.weight"], (1024, 2560))
        cfg = infer_qwen3_config(shapes, {"rope_theta": 1000000, "rms_norm_eps": 1e-6,
                                          "hidden_size": 2560, "num_hidden_layers": 36, "head_dim": 128})
        self.assertEqual(cfg, real)
        self.assertEqual(cfg, Qwen3Config.qwen3_4b())
        self.assertEqual(cfg.output_width, 7680)

    def test_qwen3_8b_with_lm_head_and_defaults(self):
        shapes = expected_shapes(Qwen3Config.qwen3_8b(), 36, lm_head=True)
        cfg = infer_qwen3_config(shapes)
        self.assertEqual((cfg.hidden_size, cfg.num_layers, cfg.num_heads, cfg.num_kv_heads, cfg.head_dim,
                          cfg.intermediate_size), (4096, 27, 32, 8, 128, 12288))
        self.assertEqual((cfg.rope_theta, cfg.rms_eps), (1e6, 1e-6))
        self.assertEqual(cfg.output_width, 12288)

    def test_config_json_values(self):
        shapes = expected_shapes(Qwen3Config.tiny(VOCAB), 28)
        cfg = infer_qwen3_config(shapes, {"rope_theta": 5e5, "rms_norm_eps": 1e-5})
        self.assertEqual((cfg.rope_theta, cfg.rms_eps), (5e5, 1e-5))
        cfg = infer_qwen3_config(shapes, {"rope_parameters": {"rope_type": "default", "rope_theta": 2e6}})
        self.assertEqual(cfg.rope_theta, 2e6)
        with self.assertRaises(CheckpointError) as cm:
            infer_qwen3_config(shapes, {"hidden_size": 64})
        self.assertIn("hidden_size", str(cm.exception))

    def test_bare_names_without_model_prefix(self):
        shapes = expected_shapes(Qwen3Config.tiny(VOCAB), 28, prefix="")
        self.assertEqual(hf_prefix(shapes), "")
        self.assertEqual(infer_qwen3_config(shapes), Qwen3Config.tiny(VOCAB))

    def test_too_few_layers(self):
        shapes = expected_shapes(Qwen3Config.tiny(VOCAB), 20)
        with self.assertRaises(CheckpointError) as cm:
            infer_qwen3_config(shapes)
        self.assertIn("model.layers.20.", str(cm.exception))

    def test_wrong_shape(self):
        shapes = expected_shapes(Qwen3Config.tiny(VOCAB), 28)
        shapes["model.layers.5.mlp.up_proj.weight"] = (65, 32)
        with self.assertRaises(CheckpointError) as cm:
            infer_qwen3_config(shapes)
        self.assertIn("model.layers.5.mlp.up_proj.weight", str(cm.exception))

    def test_required_names(self):
        names = required_names(Qwen3Config.qwen3_4b())
        self.assertEqual(len(names), 1 + 27 * 11)
        self.assertIn("model.embed_tokens.weight", names)
        self.assertIn("model.layers.26.mlp.down_proj.weight", names)
        self.assertFalse(any(n.startswith("model.layers.27.") for n in names))
        self.assertNotIn("lm_head.weight", names)
        self.assertNotIn("model.norm.weight", names)


if __name__ == "__main__":
    unittest.main()
