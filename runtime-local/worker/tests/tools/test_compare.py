"""`python -m fluxbot_klein_tools compare`: the parts that need no reference, and BFL's flux2 when FLUX2_SRC is set.

Our own implementation serves as its own reference (--self-reference) through the same code
path as the real references: every error must be exactly 0, and a perturbed reference weight
(--perturb-reference) must fail with exit code 1. Missing libraries are simulated, so the
skip messages are checked whatever is installed here.
"""

import contextlib
import io
import json
import math
import os
import tempfile
import unittest
from unittest import mock

import torch

from fluxbot_klein_tools.__main__ import build_parser, main
from fluxbot_klein_tools.compare import common

OPTIONAL = ("tokenizers", "transformers", "diffusers")


def run_cli(*argv, missing=()):
    """Run `python -m fluxbot_klein_tools compare ARGV` in-process; returns (exit code, stdout)."""
    real = common.installed

    def installed(package):
        return False if package in missing else real(package)

    out = io.StringIO()
    with mock.patch.object(common, "installed", installed), contextlib.redirect_stdout(out):
        code = main(["compare", *argv])
    return code, out.getvalue()


def sections_by_name(doc):
    return {s["name"]: s for s in doc["sections"]}


class ErrorMeasureTest(unittest.TestCase):
    def test_abs_and_rel(self):
        ref = torch.tensor([[1.0, -4.0], [2.0, 0.0]])
        ours = ref + torch.tensor([[0.0, 0.02], [-0.01, 0.0]])
        max_abs, max_rel = common.errors(ours, ref)
        self.assertAlmostEqual(max_abs, 0.02, places=6)
        self.assertAlmostEqual(max_rel, 0.02 / 4.0, places=6)  # relative to the reference's largest value

    def test_identical_and_zero(self):
        self.assertEqual(common.errors(torch.zeros(3), torch.zeros(3)), (0.0, 0.0))
        self.assertEqual(common.errors(torch.ones(3), torch.zeros(3)), (1.0, math.inf))

    def test_non_finite_fails(self):
        row = common.error_row("x", torch.tensor([float("nan"), 1.0]), torch.tensor([0.0, 1.0]), 1e-4)
        self.assertFalse(row.ok)
        self.assertEqual(row.as_dict()["max_abs"], "inf")

    def test_shape_mismatch_is_an_error(self):
        with self.assertRaisesRegex(common.CompareError, r"shapes differ: ours \(2,\), reference \(3,\)"):
            common.errors(torch.zeros(2), torch.zeros(3))

    def test_exact_rows(self):
        self.assertTrue(common.exact_row("ids", [1, 2, 3], [1, 2, 3]).ok)
        row = common.exact_row("ids", [1, 2, 3], [1, 5, 3])
        self.assertFalse(row.ok)
        self.assertEqual(row.max_abs, 3.0)
        self.assertAlmostEqual(row.max_rel, 1 / 3)
        self.assertFalse(common.exact_row("ids", [1, 2], [1, 2, 3]).ok)


class SelfReferenceTest(unittest.TestCase):
    """One run of every section against ourselves, read as JSON (shared by the tests below)."""

    @classmethod
    def setUpClass(cls):
        cls.code, out = run_cli("--self-reference", "--json", missing=OPTIONAL)
        cls.doc = json.loads(out)

    def test_json_shape(self):
        d = self.doc
        for key in ("shape", "device", "dtype", "torch", "tolerance_rel", "sections", "ok", "exit_code"):
            self.assertIn(key, d)
        self.assertEqual((d["shape"], d["device"], d["dtype"]), ("tiny", "cpu", "float32"))
        self.assertEqual(d["tolerance_rel"], 1e-4)
        for s in d["sections"]:
            self.assertEqual(set(s), {"name", "reference", "status", "reason", "notes", "ok", "rows"})
            for r in s["rows"]:
                self.assertEqual(set(r), {"component", "max_abs", "max_rel", "tolerance", "exact", "ok"})

    def test_every_error_is_zero_and_exit_0(self):
        self.assertEqual(self.code, 0)
        self.assertTrue(self.doc["ok"])
        compared = [s for s in self.doc["sections"] if s["status"] == "compared"]
        self.assertEqual({s["name"] for s in compared}, {"transformer", "vae", "text_encoder"})
        for s in compared:
            self.assertIn("--self-reference", s["reference"])
            self.assertTrue(s["rows"], s["name"])
            for r in s["rows"]:
                self.assertEqual((r["max_abs"], r["max_rel"], r["ok"]), (0.0, 0.0, True), (s["name"], r))

    def test_components_compared(self):
        rows = [r["component"] for r in sections_by_name(self.doc)["transformer"]["rows"]]
        for part in ("schedule", "packed image tokens", "image position ids", "text position ids",
                     "reference position ids", "forward (t=0.7", "forward (t=0.5", "denoise"):
            self.assertTrue(any(c.startswith(part) for c in rows), (part, rows))
        vae = [r["component"] for r in sections_by_name(self.doc)["vae"]["rows"]]
        self.assertTrue(any(c.startswith("encode ") for c in vae) and any(c.startswith("decode") for c in vae))

    def test_missing_tokenizers_skips_cleanly(self):
        tok = sections_by_name(self.doc)["tokenizer"]
        self.assertEqual(tok["status"], "skipped")
        self.assertEqual(tok["reason"], "skipped: tokenizers not installed")
        self.assertEqual(tok["rows"], [])
        self.assertTrue(tok["ok"])


class ExitCodeTest(unittest.TestCase):
    def test_perturbed_reference_weight_fails(self):
        code, out = run_cli("--self-reference", "--perturb-reference", "1e-2", "--sections", "transformer",
                            missing=OPTIONAL)
        self.assertEqual(code, 1, out)
        self.assertIn("reference weight img_in.weight scaled by 1 + 0.01", out)
        self.assertRegex(out, r"FAIL +forward \(t=0\.7")
        self.assertRegex(out, r"FAIL +denoise")
        self.assertRegex(out, r"ok +image position ids")  # ids do not depend on weights
        self.assertIn("result: FAIL", out)

    def test_perturbation_within_tolerance_passes(self):
        code, out = run_cli("--self-reference", "--perturb-reference", "1e-9", "--sections", "vae", "--json",
                            missing=OPTIONAL)
        self.assertEqual(code, 0, out)

    def test_text_output_names_skips(self):
        code, out = run_cli("--sections", "transformer", "text_encoder", "tokenizer", missing=OPTIONAL)
        self.assertEqual(code, 0, out)
        self.assertIn("[transformer] skipped: no reference: pass --flux2-src PATH", out)
        self.assertIn("[text_encoder] skipped: transformers not installed", out)
        self.assertIn("[tokenizer] skipped: tokenizers not installed", out)

    def test_missing_diffusers_skips_vae(self):
        code, out = run_cli("--sections", "vae", "--json", missing=OPTIONAL)
        self.assertEqual(code, 0, out)
        vae = sections_by_name(json.loads(out))["vae (diffusers)"]
        self.assertEqual((vae["status"], vae["reason"]), ("skipped", "skipped: diffusers not installed"))

    def test_bad_flux2_src_is_exit_2(self):
        with tempfile.TemporaryDirectory() as empty:
            code, out = run_cli("--flux2-src", empty, "--sections", "transformer", "--json", missing=OPTIONAL)
        self.assertEqual(code, 2, out)
        section = sections_by_name(json.loads(out))["transformer"]
        self.assertEqual(section["status"], "error")
        self.assertIn("has no flux2/model.py; pass the src folder of a black-forest-labs/flux2 checkout",
                      section["reason"])

    def test_parser(self):
        args = build_parser().parse_args(["compare", "--shape", "4b", "--device", "cuda", "--dtype", "bfloat16",
                                          "--flux2-src", "/x/src", "--json"])
        self.assertEqual((args.command, args.shape, args.device, args.dtype, args.flux2_src, args.json),
                         ("compare", "4b", "cuda", "bfloat16", "/x/src", True))
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            build_parser().parse_args(["compare", "--shape", "9b"])


@unittest.skipUnless(os.environ.get("FLUX2_SRC"), "set FLUX2_SRC to a black-forest-labs/flux2 checkout's src folder")
class Flux2ReferenceTest(unittest.TestCase):
    """Our transformer, sampler and VAE against BFL's flux2 at the tiny shape, float32 on CPU."""

    def test_flux2(self):
        code, out = run_cli("--flux2-src", os.environ["FLUX2_SRC"], "--sections", "transformer", "vae", "--json",
                            missing=("diffusers",))
        doc = json.loads(out)
        self.assertEqual(code, 0, out)
        by_name = sections_by_name(doc)
        for name in ("transformer", "vae (flux2)"):
            s = by_name[name]
            self.assertEqual(s["status"], "compared", s)
            self.assertIn("BFL flux2", s["reference"])
            self.assertGreaterEqual(len(s["rows"]), 3)
            for r in s["rows"]:
                self.assertTrue(r["ok"], r)
                self.assertLessEqual(r["max_rel"], 1e-4, r)

    def test_perturbed_flux2_fails(self):
        code, out = run_cli("--flux2-src", os.environ["FLUX2_SRC"], "--sections", "transformer",
                            "--perturb-reference", "1e-2", missing=("diffusers",))
        self.assertEqual(code, 1, out)
        self.assertRegex(out, r"FAIL +forward \(t=0\.7")


if __name__ == "__main__":
    unittest.main()
