"""The tiny checkpoint writer: both official layouts, deterministic bytes."""

import hashlib
import json
import os
import shutil
import tempfile
import unittest

from fluxbot_klein.checkpoint import safetensors_io
from fluxbot_klein.checkpoint.tiny import BFL_FILE, write_tiny_checkpoint
from fluxbot_klein.checkpoint.transformer import detect_layout
from fluxbot_klein.checkpoint.vae import detect_vae_layout


def tree_digest(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


class TinyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="klein-tiny-")
        self.addCleanup(shutil.rmtree, self.dir)

    def test_hf_layout(self):
        folder = os.path.join(self.dir, "hf")
        path = write_tiny_checkpoint(folder, "hf")
        self.assertEqual(path, folder)
        for rel in ("model_index.json", "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
                    "text_encoder/config.json", "text_encoder/model.safetensors.index.json",
                    "text_encoder/model-00001-of-00002.safetensors", "text_encoder/model-00002-of-00002.safetensors",
                    "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
                    "tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json"):
            self.assertTrue(os.path.isfile(os.path.join(folder, rel)), rel)
        self.assertFalse(os.path.exists(os.path.join(folder, BFL_FILE)))
        t = safetensors_io.shapes(os.path.join(folder, "transformer/diffusion_pytorch_model.safetensors"))
        self.assertEqual(detect_layout(t), "diffusers")
        self.assertIn("transformer_blocks.0.attn.to_q.weight", t)
        v = safetensors_io.shapes(os.path.join(folder, "vae/diffusion_pytorch_model.safetensors"))
        self.assertEqual(detect_vae_layout(v), "diffusers")
        with open(os.path.join(folder, "text_encoder/model.safetensors.index.json")) as f:
            weight_map = json.load(f)["weight_map"]
        shards = safetensors_io.files_in(os.path.join(folder, "text_encoder"))
        self.assertEqual(len(shards), 2)
        te = safetensors_io.shapes(shards)
        self.assertEqual(set(weight_map), set(te))
        self.assertIn("model.layers.27.mlp.down_proj.weight", te)  # a layer klein never reads
        self.assertIn("model.norm.weight", te)
        with open(os.path.join(folder, "transformer/config.json")) as f:
            self.assertEqual(json.load(f)["num_layers"], 2)

    def test_bfl_layout(self):
        folder = os.path.join(self.dir, "bfl")
        path = write_tiny_checkpoint(folder, "bfl")
        self.assertEqual(path, os.path.join(folder, BFL_FILE))
        t = safetensors_io.shapes(path)
        self.assertEqual(detect_layout(t), "bfl")
        self.assertIn("double_blocks.0.img_attn.qkv.weight", t)
        self.assertIn("single_blocks.1.linear1.weight", t)
        self.assertEqual(detect_vae_layout(safetensors_io.shapes(os.path.join(folder, "ae.safetensors"))), "bfl")
        self.assertTrue(os.path.isfile(os.path.join(folder, "tokenizer/tokenizer.json")))
        self.assertEqual(len(safetensors_io.files_in(os.path.join(folder, "text_encoder"))), 2)
        self.assertFalse(os.path.exists(os.path.join(folder, "transformer")))

    def test_deterministic(self):
        for layout in ("hf", "bfl"):
            a = os.path.join(self.dir, layout + "-a")
            b = os.path.join(self.dir, layout + "-b")
            write_tiny_checkpoint(a, layout)
            write_tiny_checkpoint(b, layout)
            self.assertEqual(tree_digest(a), tree_digest(b))

    def test_unknown_layout(self):
        with self.assertRaisesRegex(ValueError, "hf, bfl"):
            write_tiny_checkpoint(self.dir, "gguf")


if __name__ == "__main__":
    unittest.main()
