"""load_klein on tiny checkpoints in both layouts, and the errors for broken ones."""

import json
import os
import shutil
import struct
import tempfile
import unittest

import torch

from fluxbot_klein.checkpoint import safetensors_io
from fluxbot_klein.checkpoint.loader import find_components, load_klein, plan, resolve_dtype, resolve_variant
from fluxbot_klein.checkpoint.tiny import BFL_FILE, tiny_transformer_state, write_tiny_checkpoint
from fluxbot_klein.errors import CheckpointError
from fluxbot_klein.models.transformer import TransformerConfig
from fluxbot_klein.pipeline import GenerateRequest, KleinPipeline

ROOT = None


def setUpModule():
    global ROOT
    ROOT = tempfile.mkdtemp(prefix="klein-loader-")
    write_tiny_checkpoint(os.path.join(ROOT, "hf"), "hf")
    write_tiny_checkpoint(os.path.join(ROOT, "bfl"), "bfl")


def tearDownModule():
    shutil.rmtree(ROOT)


def copy_of(layout):
    dst = tempfile.mkdtemp(prefix="klein-broken-")
    shutil.rmtree(dst)
    shutil.copytree(os.path.join(ROOT, layout), dst)
    return dst


class LoaderTest(unittest.TestCase):
    def test_both_layouts_load_the_same_model(self):
        hf = load_klein(os.path.join(ROOT, "hf"))
        bfl = load_klein(os.path.join(ROOT, "bfl", BFL_FILE))
        for m in (hf, bfl):
            # tiny shapes are "custom"; the tiny file declares that it stands in for klein-4b
            self.assertEqual((m.name, m.variant, m.device.type, m.dtype), ("klein-4b", "distilled", "cpu", torch.float32))
        self.assertEqual(hf.transformer.config, bfl.transformer.config)
        self.assertEqual(hf.text_encoder.config, bfl.text_encoder.config)
        self.assertEqual(hf.vae.config, bfl.vae.config)
        for a, b in ((hf.transformer, bfl.transformer), (hf.vae, bfl.vae), (hf.text_encoder, bfl.text_encoder)):
            sa, sb = a.state_dict(), b.state_dict()
            self.assertEqual(set(sa), set(sb))
            for k in sa:
                self.assertTrue(torch.equal(sa[k], sb[k]), k)
        self.assertEqual(len(hf.text_encoder.layers), 27)  # layer 28 of the file is never loaded
        request = GenerateRequest(prompt="a red fox in snow", width=64, height=64, seed=3, steps=2)
        a = KleinPipeline(hf).generate([request])[0]
        b = KleinPipeline(bfl).generate([request])[0]
        self.assertEqual(a.data, b.data)
        self.assertEqual((a.width, a.height, a.format), (64, 64, "png"))

    def test_a_custom_transformer_is_custom_unless_it_declares_a_catalog_model(self):
        for declared, expected in ((None, "custom"), ("klein-9b", "klein-9b"), ("flux-dev", None)):
            broken = copy_of("bfl")
            try:
                path = os.path.join(broken, BFL_FILE)
                state = safetensors_io.load(path)
                meta = {"format": "pt"} if declared is None else {"format": "pt", "fluxbot.model": declared}
                safetensors_io.save(state, path, metadata=meta)
                if expected is None:
                    with self.assertRaises(CheckpointError) as caught:
                        load_klein(path)
                    self.assertIn("fluxbot.model must be one of klein-4b, klein-9b; got 'flux-dev'", str(caught.exception))
                else:
                    self.assertEqual(load_klein(path).name, expected)
            finally:
                shutil.rmtree(broken)

    def test_folder_with_only_the_single_file(self):
        self.assertEqual(find_components(os.path.join(ROOT, "bfl")).layout, "bfl")
        self.assertEqual(find_components(os.path.join(ROOT, "hf")).layout, "hf")

    def test_plan_reads_headers(self):
        p = plan(os.path.join(ROOT, "hf"))
        self.assertEqual(p.transformer_layout, "diffusers")
        self.assertEqual(p.vae_layout, "diffusers")
        self.assertEqual(p.transformer_config.context_in_dim, p.text_encoder_config.output_width)
        self.assertFalse(p.has_fp8)
        self.assertEqual(plan(os.path.join(ROOT, "bfl", BFL_FILE)).vae_layout, "bfl")

    def test_dtype_and_variant(self):
        m = load_klein(os.path.join(ROOT, "bfl", BFL_FILE), dtype="bfloat16", variant="base")
        self.assertEqual((m.dtype, m.variant), (torch.bfloat16, "base"))
        self.assertEqual(m.transformer.dtype, torch.bfloat16)
        self.assertEqual(m.vae.dtype, torch.bfloat16)
        self.assertEqual(m.vae.bn.running_var.dtype, torch.float32)
        self.assertEqual(resolve_dtype(None, "cpu"), torch.float32)
        self.assertEqual(resolve_dtype(None, "cuda"), torch.bfloat16)
        self.assertEqual(resolve_dtype("fp16", "cpu"), torch.float16)
        with self.assertRaisesRegex(CheckpointError, "int8"):
            resolve_dtype("int8", "cpu")
        self.assertEqual(resolve_variant("/m/FLUX.2-klein-base-4B"), "base")
        self.assertEqual(resolve_variant("/m/flux-2-klein-base-4b.safetensors"), "base")
        self.assertEqual(resolve_variant("/m/FLUX.2-klein-4B"), "distilled")
        self.assertEqual(resolve_variant("/m/FLUX.2-klein-base-4B", "distilled"), "distilled")
        with self.assertRaisesRegex(CheckpointError, "turbo"):
            resolve_variant("/m/x", "turbo")

    def test_base_in_folder_name(self):
        dst = os.path.join(tempfile.mkdtemp(), "FLUX.2-klein-base-tiny")
        self.addCleanup(shutil.rmtree, os.path.dirname(dst))
        shutil.copytree(os.path.join(ROOT, "hf"), dst)
        self.assertEqual(load_klein(dst).variant, "base")

    def test_truncated_transformer(self):
        folder = copy_of("bfl")
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, BFL_FILE)
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 1000)
        with self.assertRaises(CheckpointError) as cm:
            load_klein(path)
        self.assertIn(BFL_FILE, str(cm.exception))
        self.assertIn("truncated", str(cm.exception))

    def test_missing_text_encoder(self):
        for layout in ("hf", "bfl"):
            folder = copy_of(layout)
            self.addCleanup(shutil.rmtree, folder)
            shutil.rmtree(os.path.join(folder, "text_encoder"))
            path = folder if layout == "hf" else os.path.join(folder, BFL_FILE)
            with self.assertRaises(CheckpointError) as cm:
                load_klein(path)
            message = str(cm.exception)
            self.assertIn("text encoder is missing", message)
            self.assertIn("text_encoder", message)

    def test_missing_shard(self):
        folder = copy_of("hf")
        self.addCleanup(shutil.rmtree, folder)
        os.remove(os.path.join(folder, "text_encoder", "model-00002-of-00002.safetensors"))
        with self.assertRaisesRegex(CheckpointError, "model-00002-of-00002.safetensors"):
            load_klein(folder)

    def test_missing_vae_and_tokenizer(self):
        folder = copy_of("bfl")
        self.addCleanup(shutil.rmtree, folder)
        os.remove(os.path.join(folder, "ae.safetensors"))
        with self.assertRaisesRegex(CheckpointError, "VAE is missing.*ae.safetensors"):
            load_klein(os.path.join(folder, BFL_FILE))
        folder = copy_of("hf")
        self.addCleanup(shutil.rmtree, folder)
        shutil.rmtree(os.path.join(folder, "tokenizer"))
        with self.assertRaisesRegex(CheckpointError, "tokenizer is missing.*tokenizer.json"):
            load_klein(folder)
        folder = copy_of("hf")
        self.addCleanup(shutil.rmtree, folder)
        shutil.rmtree(os.path.join(folder, "transformer"))
        with self.assertRaisesRegex(CheckpointError, "transformer is missing"):
            load_klein(folder)

    def test_text_encoder_of_another_model(self):
        folder = copy_of("bfl")
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, BFL_FILE)
        safetensors_io.save(tiny_transformer_state(TransformerConfig.tiny(48)), path)
        with self.assertRaisesRegex(CheckpointError, "does not fit the transformer"):
            load_klein(path)

    def test_not_a_checkpoint(self):
        with self.assertRaisesRegex(CheckpointError, "no such file or folder"):
            load_klein(os.path.join(ROOT, "nothing-here"))
        folder = copy_of("bfl")
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, BFL_FILE)
        # a file of another model: only VAE tensors
        shutil.copy(os.path.join(folder, "ae.safetensors"), path)
        with self.assertRaisesRegex(CheckpointError, "transformer"):
            load_klein(path)

    def test_fp8_single_file(self):
        """An FP8 file loads on a PyTorch with float8 (scale folded in); older ones refuse it by name."""
        folder = copy_of("bfl")
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, BFL_FILE)
        state = safetensors_io.load(path)
        fp8 = "double_blocks.0.img_attn.proj.weight"
        header, blobs, offset = {}, [], 0
        for name in sorted(state):
            t = state[name]
            if name == fp8:
                data, dtype = bytes(t.numel()), "F8_E4M3"  # all zeros in E4M3
            else:
                data, dtype = t.numpy().tobytes(), "F32"
            header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
            blobs.append(data)
            offset += len(data)
        scale = struct.pack("<f", 2.0)
        header[fp8 + "_scale"] = {"dtype": "F32", "shape": [], "data_offsets": [offset, offset + 4]}
        blobs.append(scale)
        raw = json.dumps(header).encode()
        raw += b" " * (-len(raw) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))
        self.assertTrue(plan(path).has_fp8)
        if hasattr(torch, "float8_e4m3fn"):
            m = load_klein(path)
            w = dict(m.transformer.named_parameters())[fp8]
            self.assertEqual(w.dtype, torch.float32)
            self.assertTrue(torch.equal(w, torch.zeros_like(w)))
        else:
            with self.assertRaises(CheckpointError) as cm:
                load_klein(path)
            self.assertIn("FP8", str(cm.exception))
            self.assertIn(fp8, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
