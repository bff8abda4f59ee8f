"""`python -m fluxbot_klein_tools bench --quick`: the benchmark's tiny CPU smoke run."""

import contextlib
import io
import unittest

from fluxbot_klein_tools.__main__ import main


class BenchTest(unittest.TestCase):
    def test_bench_quick(self):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            self.assertEqual(main(["bench", "--quick", "--batches", "1,2"]), 0)
        text = buf.getvalue()
        self.assertIn("| end-to-end, 1 image (new prompt) |", text)
        self.assertIn("| transformer only (all steps) |", text)
        self.assertIn("| throughput, batch 2 |", text)


if __name__ == "__main__":
    unittest.main()
