import json
import os
import tempfile
import unittest

from fluxbot_klein.checkpoint.tiny import tiny_tokenizer_json, write_tiny_tokenizer
from fluxbot_klein.errors import CheckpointError, RequestError
from fluxbot_klein.tokenizer import CHAT_TEMPLATE, Tokenizer, bytes_to_unicode

TEMPLATE_TEXT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"


def _byte_vocab():
    return {ch: i for i, ch in enumerate(sorted(bytes_to_unicode().values()))}


def _custom(merges, extra_tokens, merges_as_strings=False):
    """A tokenizer.json dict in Qwen's structure with hand-chosen merges."""
    data = tiny_tokenizer_json()
    vocab = _byte_vocab()
    for tok in extra_tokens:
        vocab[tok] = len(vocab)
    for i, tok in enumerate(data["added_tokens"]):
        tok["id"] = len(vocab) + i
    data["model"]["vocab"] = vocab
    data["model"]["merges"] = [f"{a} {b}" if merges_as_strings else [a, b] for a, b in merges]
    return data


class TinyTokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.dir.name, "tokenizer.json")
        cls.size = write_tiny_tokenizer(cls.path)
        cls.tok = Tokenizer.from_file(cls.path)
        with open(cls.path, encoding="utf-8") as f:
            cls.data = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_file_has_qwen_structure(self):
        d = self.data
        self.assertEqual(d["normalizer"], {"type": "NFC"})
        pre = d["pre_tokenizer"]
        self.assertEqual(pre["type"], "Sequence")
        self.assertEqual([p["type"] for p in pre["pretokenizers"]], ["Split", "ByteLevel"])
        self.assertFalse(pre["pretokenizers"][1]["add_prefix_space"])
        self.assertEqual(d["decoder"]["type"], "ByteLevel")
        self.assertEqual(d["model"]["type"], "BPE")
        vocab = d["model"]["vocab"]
        byte_chars = sorted(bytes_to_unicode().values())
        self.assertEqual([vocab[c] for c in byte_chars], list(range(256)))
        self.assertGreaterEqual(len(d["model"]["merges"]), 200)
        names = [t["content"] for t in d["added_tokens"]]
        for name in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"):
            self.assertIn(name, names)
        self.assertEqual(self.size, self.tok.vocab_size)
        self.assertEqual(self.size, len(vocab) + len(names))
        self.assertEqual(self.tok.pad_id, next(t["id"] for t in d["added_tokens"]
                                               if t["content"] == "<|endoftext|>"))

    def test_folder_path_is_accepted(self):
        self.assertEqual(Tokenizer.from_file(self.dir.name).vocab_size, self.size)

    def test_round_trip(self):
        for text in ["A photo of a cat, sitting on a mat. 42 apples!", "café, naïve, Ångström, über",
                     "日本語のテキストと中文", "🦊🌅 emoji 👩‍👩‍👧 flags 🇫🇷", "tabs\tand\nnewlines\r\n  spaces  ",
                     "it's they'll WE'VE", ""]:
            with self.subTest(text=text):
                ids = self.tok.encode(text)
                self.assertEqual(self.tok.decode(ids), text)
                self.assertTrue(all(0 <= i < self.tok.vocab_size for i in ids))

    def test_merges_shorten_english(self):
        text = "a photograph of the mountains"
        self.assertLess(len(self.tok.encode(text)), len(text.encode("utf-8")))

    def test_nfc_normalisation(self):
        decomposed = "cafe\u0301"
        self.assertEqual(self.tok.encode(decomposed), self.tok.encode("caf\u00e9"))
        self.assertEqual(self.tok.decode(self.tok.encode(decomposed)), "caf\u00e9")

    def test_qwen_pre_tokenizer(self):
        enc = self.tok.encode
        self.assertEqual(enc("it's"), enc("it") + enc("'s"))
        self.assertEqual(len(enc("2024")), 4)
        self.assertEqual(enc("2024"), [enc(c)[0] for c in "2024"])

    def test_special_tokens_kept_whole(self):
        ids = {t["content"]: t["id"] for t in self.data["added_tokens"]}
        for name in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"):
            self.assertEqual(self.tok.encode(name), [ids[name]])
        got = self.tok.encode("x<|im_end|>y<think></think>")
        self.assertEqual(got, self.tok.encode("x") + [ids["<|im_end|>"]] + self.tok.encode("y")
                         + [ids["<think>"], ids["</think>"]])
        partial = self.tok.encode("<|im_sta")
        self.assertNotIn(ids["<|im_start|>"], partial)
        self.assertEqual(self.tok.decode(partial), "<|im_sta")

    def test_decode_skips_special_when_asked(self):
        ids = self.tok.encode("<|im_start|>hi<|im_end|>")
        self.assertEqual(self.tok.decode(ids, skip_special_tokens=True), "hi")

    def test_chat_template_ids(self):
        prompt = "a red fox in the snow"
        ids, mask, count = self.tok.chat_ids(prompt, max_length=64)
        self.assertEqual(self.tok.decode(ids[:count]), TEMPLATE_TEXT.format(prompt))
        self.assertEqual(CHAT_TEMPLATE.format(prompt=prompt), TEMPLATE_TEXT.format(prompt))
        self.assertEqual(ids[:count], self.tok.encode(TEMPLATE_TEXT.format(prompt)))
        special = {t["content"]: t["id"] for t in self.data["added_tokens"]}
        self.assertEqual(ids[0], special["<|im_start|>"])
        self.assertEqual(ids[:count].count(special["<|im_start|>"]), 2)
        self.assertEqual(ids[:count].count(special["<think>"]), 1)
        self.assertEqual(ids[:count].count(special["</think>"]), 1)
        self.assertEqual(ids[:count].count(special["<|im_end|>"]), 1)

    def test_padding_and_mask(self):
        ids, mask, count = self.tok.chat_ids("a cat", max_length=512)
        self.assertEqual(len(ids), 512)
        self.assertEqual(len(mask), 512)
        self.assertEqual(mask, [1] * count + [0] * (512 - count))
        self.assertEqual(ids[count:], [self.tok.pad_id] * (512 - count))
        self.assertNotIn(self.tok.pad_id, ids[:count])

    def test_prompt_exactly_at_limit_is_accepted(self):
        _, _, count = self.tok.chat_ids("a cat", max_length=512)
        ids, mask, count2 = self.tok.chat_ids("a cat", max_length=count)
        self.assertEqual(count2, count)
        self.assertEqual(sum(mask), count)

    def test_too_long_prompt(self):
        prompt = "a photograph of a very long prompt " * 80
        real = len(self.tok.encode(TEMPLATE_TEXT.format(prompt)))
        with self.assertRaises(RequestError) as cm:
            self.tok.chat_ids(prompt, max_length=512)
        err = cm.exception
        self.assertEqual(err.code, "prompt_too_long")
        self.assertEqual(err.field, "prompt")
        self.assertIn(str(real), err.message)
        self.assertIn("512", err.message)
        self.assertIn("shorten", err.message)

    def test_huge_prompt_refused_before_encoding(self):
        prompt = "x" * 2_000_000
        with self.assertRaises(RequestError) as cm:
            self.tok.chat_ids(prompt, max_length=512)
        self.assertEqual(cm.exception.code, "prompt_too_long")
        self.assertIn("2000000 bytes", cm.exception.message)
        self.assertIn(f"at least {-(-2_000_000 // max(len(t) for t in self.data['model']['vocab']))} tokens",
                      cm.exception.message)
        self.assertIn("512", cm.exception.message)


class MergeOrderTest(unittest.TestCase):
    def test_lower_rank_merges_first(self):
        data = _custom([("b", "c"), ("a", "b"), ("a", "bc")], ["bc", "ab", "abc"])
        tok = Tokenizer.from_dict(data)
        vocab = data["model"]["vocab"]
        # (b, c) has rank 0: a|b|c -> a|bc -> abc
        self.assertEqual(tok.encode("abc"), [vocab["abc"]])

    def test_other_order_gives_other_tokens(self):
        data = _custom([("a", "b"), ("b", "c"), ("a", "bc")], ["ab", "bc", "abc"])
        tok = Tokenizer.from_dict(data)
        vocab = data["model"]["vocab"]
        # (a, b) has rank 0: a|b|c -> ab|c, and there is no (ab, c) merge
        self.assertEqual(tok.encode("abc"), [vocab["ab"], vocab["c"]])
        self.assertEqual(tok.encode("bcd"), [vocab["bc"], vocab["d"]])

    def test_repeated_pairs_and_string_merges(self):
        for as_strings in (False, True):
            data = _custom([("a", "a"), ("aa", "aa")], ["aa", "aaaa"], merges_as_strings=as_strings)
            tok = Tokenizer.from_dict(data)
            vocab = data["model"]["vocab"]
            self.assertEqual(tok.encode("aaa"), [vocab["aa"], vocab["a"]])
            self.assertEqual(tok.encode("aaaa"), [vocab["aaaa"]])
            self.assertEqual(tok.encode("aaaaa"), [vocab["aaaa"], vocab["a"]])

    def test_space_is_byte_level(self):
        data = _custom([("Ġ", "a")], ["Ġa"])
        tok = Tokenizer.from_dict(data)
        vocab = data["model"]["vocab"]
        self.assertEqual(tok.encode("b a"), [vocab["b"], vocab["Ġa"]])
        self.assertEqual(tok.decode(tok.encode("b a")), "b a")


class QwenIdsTest(unittest.TestCase):
    def test_pad_id_from_added_tokens(self):
        data = tiny_tokenizer_json()
        for i, tok in enumerate(data["added_tokens"]):
            tok["id"] = 151643 + i
        tok = Tokenizer.from_dict(data)
        self.assertEqual(tok.pad_id, 151643)
        self.assertEqual(tok.vocab_size, 151643 + len(data["added_tokens"]))
        ids, mask, count = tok.chat_ids("hi", max_length=32)
        self.assertEqual(ids[0], 151644)
        self.assertEqual(ids[count:], [151643] * (32 - count))

    def test_missing_file(self):
        with self.assertRaises(CheckpointError) as cm:
            Tokenizer.from_file("/nonexistent/tokenizer.json")
        self.assertIn("/nonexistent/tokenizer.json", str(cm.exception))

    def test_not_byte_level(self):
        data = tiny_tokenizer_json()
        del data["model"]["vocab"]["Ġ"]
        with self.assertRaises(CheckpointError):
            Tokenizer.from_dict(data)


if __name__ == "__main__":
    unittest.main()
