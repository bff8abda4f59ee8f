import json
import os
import struct
import tempfile
import unittest

import torch

from fluxbot_klein.checkpoint import safetensors_io as st
from fluxbot_klein.errors import CheckpointError


def sample_tensors():
    g = torch.Generator().manual_seed(0)
    return {
        "f32": torch.randn(3, 5, generator=g),
        "f16": torch.randn(4, generator=g).half(),
        "bf16": torch.randn(2, 3, 4, generator=g).bfloat16(),
        "i64": torch.tensor([-(2 ** 40), 0, 7], dtype=torch.int64),
        "i32": torch.tensor([[1, -2], [3, 2 ** 30]], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
    }


class SafetensorsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_round_trip_every_dtype(self):
        tensors = sample_tensors()
        p = self.path("a.safetensors")
        st.save(tensors, p, metadata={"format": "pt"})
        infos, meta = st.read_header(p)
        self.assertEqual(meta, {"format": "pt"})
        self.assertEqual(infos["bf16"].dtype, "BF16")
        self.assertEqual(infos["bool"].dtype, "BOOL")
        self.assertEqual(infos["scalar"].shape, ())
        loaded = st.load(p)
        self.assertEqual(set(loaded), set(tensors))
        for name, t in tensors.items():
            self.assertEqual(loaded[name].dtype, t.dtype, name)
            self.assertEqual(tuple(loaded[name].shape), tuple(t.shape), name)
            self.assertTrue(torch.equal(loaded[name], t), name)

    def test_file_layout_is_standard(self):
        p = self.path("a.safetensors")
        st.save({"x": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, p)
        with open(p, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        self.assertEqual((8 + n) % 8, 0)
        header = json.loads(raw[8:8 + n])
        self.assertEqual(header["x"], {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]})
        self.assertEqual(len(raw), 8 + n + 24)
        self.assertEqual(struct.unpack("<6f", raw[8 + n:]), (0.0, 1.0, 2.0, 3.0, 4.0, 5.0))

    def test_reads_hand_written_file(self):
        # Built by hand, unpadded header, tensors out of name order: as other writers may do.
        header = {"b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]},
                  "a": {"dtype": "F16", "shape": [1], "data_offsets": [8, 10]},
                  "__metadata__": {"k": "v"}}
        raw = json.dumps(header).encode()
        p = self.path("h.safetensors")
        with open(p, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw + struct.pack("<2i", 7, -9) + struct.pack("<e", 1.5))
        t = st.load(p)
        self.assertEqual(t["b"].tolist(), [7, -9])
        self.assertEqual(t["a"].tolist(), [1.5])
        self.assertEqual(st.read_header(p)[1], {"k": "v"})

    def test_names_filter_and_dtype(self):
        p = self.path("a.safetensors")
        tensors = sample_tensors()
        st.save(tensors, p)
        got = st.load(p, names=["bf16", "i32"], dtype=torch.float32)
        self.assertEqual(set(got), {"bf16", "i32"})
        self.assertEqual(got["bf16"].dtype, torch.float32)
        self.assertEqual(got["i32"].dtype, torch.int32)  # integers are never converted
        self.assertTrue(torch.equal(got["bf16"], tensors["bf16"].float()))
        with self.assertRaises(CheckpointError) as cm:
            st.load(p, names=["f32", "nope1", "nope2"])
        self.assertIn("2 requested tensors", str(cm.exception))
        self.assertIn("nope1", str(cm.exception))

    def test_shapes_reads_headers_only(self):
        p = self.path("a.safetensors")
        st.save(sample_tensors(), p)
        self.assertEqual(st.shapes(p)["bf16"], (2, 3, 4))
        self.assertEqual(st.shapes([p])["scalar"], ())

    def test_truncated_file(self):
        p = self.path("t.safetensors")
        st.save({"a": torch.ones(4), "b": torch.ones(100)}, p)
        size = os.path.getsize(p)
        with open(p, "r+b") as f:
            f.truncate(size - 4)
        with self.assertRaises(CheckpointError) as cm:
            st.load(p)
        msg = str(cm.exception)
        self.assertIn(p, msg)
        self.assertIn("'b'", msg)
        self.assertIn(str(size), msg)
        self.assertIn(str(size - 4), msg)
        with open(p, "r+b") as f:
            f.truncate(5)
        with self.assertRaises(CheckpointError) as cm:
            st.read_header(p)
        self.assertIn(p, str(cm.exception))

    def test_header_past_end(self):
        p = self.path("h.safetensors")
        with open(p, "wb") as f:
            f.write(struct.pack("<Q", 1000) + b"{}")
        with self.assertRaises(CheckpointError) as cm:
            st.read_header(p)
        self.assertIn("header length 1000", str(cm.exception))

    def test_inconsistent_offsets(self):
        header = {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}
        raw = json.dumps(header).encode()
        p = self.path("o.safetensors")
        with open(p, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw + bytes(16))
        with self.assertRaises(CheckpointError) as cm:
            st.read_header(p)
        self.assertIn("'w'", str(cm.exception))
        self.assertIn("16 bytes", str(cm.exception))

    def test_not_safetensors(self):
        p = self.path("x.safetensors")
        with open(p, "wb") as f:
            f.write(struct.pack("<Q", 4) + b"\xff\xfe{]")
        with self.assertRaises(CheckpointError):
            st.read_header(p)
        with self.assertRaises(CheckpointError):
            st.read_header(self.path("absent.safetensors"))

    def write_sharded(self):
        a = {"x": torch.ones(2), "y": torch.zeros(3, dtype=torch.int64)}
        b = {"z": torch.full((2, 2), 3.0).bfloat16()}
        st.save(a, self.path("model-00001-of-00002.safetensors"))
        st.save(b, self.path("model-00002-of-00002.safetensors"))
        index = {"metadata": {"total_size": 0},
                 "weight_map": {"x": "model-00001-of-00002.safetensors",
                                "z": "model-00002-of-00002.safetensors",
                                "y": "model-00001-of-00002.safetensors"}}
        with open(self.path("model.safetensors.index.json"), "w") as f:
            json.dump(index, f)
        return a, b

    def test_index_sharding(self):
        a, b = self.write_sharded()
        # A stray file not in the index is ignored.
        st.save({"stray": torch.ones(1)}, self.path("other.safetensors"))
        files = st.files_in(self.dir)
        self.assertEqual([os.path.basename(f) for f in files],
                         ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        self.assertEqual(st.shapes(files), {"x": (2,), "y": (3,), "z": (2, 2)})
        loaded = st.load(files, names=["z", "x"])
        self.assertEqual(set(loaded), {"z", "x"})
        self.assertTrue(torch.equal(loaded["z"], b["z"]))

    def test_missing_shard(self):
        self.write_sharded()
        os.remove(self.path("model-00002-of-00002.safetensors"))
        with self.assertRaises(CheckpointError) as cm:
            st.files_in(self.dir)
        msg = str(cm.exception)
        self.assertIn("model-00002-of-00002.safetensors", msg)
        self.assertIn("'z'", msg)

    def test_folder_without_index(self):
        st.save({"b": torch.ones(1)}, self.path("b.safetensors"))
        st.save({"a": torch.ones(1)}, self.path("a.safetensors"))
        self.assertEqual([os.path.basename(f) for f in st.files_in(self.dir)],
                         ["a.safetensors", "b.safetensors"])
        empty = self.path("empty")
        os.mkdir(empty)
        with self.assertRaises(CheckpointError):
            st.files_in(empty)

    def test_duplicate_across_files(self):
        st.save({"a": torch.ones(1)}, self.path("1.safetensors"))
        st.save({"a": torch.ones(1)}, self.path("2.safetensors"))
        with self.assertRaises(CheckpointError) as cm:
            st.shapes(st.files_in(self.dir))
        self.assertIn("'a'", str(cm.exception))

    def test_fp8(self):
        header = {"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}
        raw = json.dumps(header).encode()
        p = self.path("fp8.safetensors")
        with open(p, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw + bytes([0x38, 0xC0]))  # 1.0, -2.0 in E4M3
        self.assertEqual(st.shapes(p), {"w": (2,)})
        if hasattr(torch, "float8_e4m3fn"):
            t = st.load(p, dtype=torch.float32)
            self.assertEqual(t["w"].tolist(), [1.0, -2.0])
            st.save({"w": st.load(p)["w"]}, self.path("fp8b.safetensors"))
            self.assertEqual(st.read_header(self.path("fp8b.safetensors"))[0]["w"].dtype, "F8_E4M3")
        else:
            with self.assertRaises(CheckpointError) as cm:
                st.load(p)
            self.assertIn("PyTorch >= 2.1", str(cm.exception))
            self.assertIn("'w'", str(cm.exception))

    def test_save_rejects_bad_metadata(self):
        with self.assertRaises(ValueError):
            st.save({"a": torch.ones(1)}, self.path("m.safetensors"), metadata={"n": 1})


if __name__ == "__main__":
    unittest.main()
