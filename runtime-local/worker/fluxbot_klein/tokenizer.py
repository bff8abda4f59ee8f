"""Byte-level BPE from a Hugging Face ``tokenizer.json`` (Qwen2/Qwen3 layout), no ``tokenizers``.

Reads the normalizer (NFC), the pre-tokenizer (a regex Split, then ByteLevel without a prefix
space), the BPE model (vocab and ranked merges), the added tokens (matched verbatim before BPE)
and the ByteLevel decoder. ``chat_ids`` applies Qwen3's chat template with thinking disabled and
pads to a fixed length on the right, as FLUX.2 [klein] prompts are encoded.
"""

from __future__ import annotations

import json
import os
import unicodedata
from typing import Any, Iterable, Mapping, NoReturn, Sequence

import regex

from .errors import CheckpointError, RequestError

CHAT_TEMPLATE = "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
PAD_TOKEN = "<|endoftext|>"
QWEN_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_CACHE_LIMIT = 50000


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    chars = list(keep)
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


_BYTE_TO_CHAR = bytes_to_unicode()
_CHAR_TO_BYTE = {c: b for b, c in _BYTE_TO_CHAR.items()}


def _fail(path: str, what: str) -> NoReturn:
    raise CheckpointError(f"tokenizer file {path}: {what}")


class Tokenizer:
    """Byte-level BPE tokenizer with verbatim added tokens; see the module docstring."""

    def __init__(self, vocab: Mapping[str, int], merges: Sequence[tuple[str, str]],
                 added_tokens: Sequence[Mapping[str, Any]], split_pattern: str | None, normalizer: str | None = "NFC",
                 ignore_merges: bool = False, source: str = "<memory>") -> None:
        self.source = source
        self._vocab = dict(vocab)
        self._id_to_token = {i: t for t, i in self._vocab.items()}
        self._ranks = {}
        for rank, (a, b) in enumerate(merges):
            self._ranks.setdefault((a, b), rank)
        self._ignore_merges = ignore_merges
        self._normalizer = normalizer
        self._split = regex.compile(split_pattern) if split_pattern else None
        self._added = {}
        self._added_ids = {}
        for tok in added_tokens:
            self._added[tok["content"]] = tok
            self._added_ids[tok["id"]] = tok
        self._added_re, self._added_groups = self._compile_added(added_tokens)
        for ch in _CHAR_TO_BYTE:
            if ch not in self._vocab:
                _fail(source, f"byte-level token {ch!r} (byte {_CHAR_TO_BYTE[ch]}) is missing from "
                              "model.vocab; this is not a byte-level BPE vocabulary")
        if PAD_TOKEN in self._added:
            self.pad_id = self._added[PAD_TOKEN]["id"]
        elif PAD_TOKEN in self._vocab:
            self.pad_id = self._vocab[PAD_TOKEN]
        else:
            _fail(source, f"no {PAD_TOKEN} token to pad with; use the tokenizer shipped with the model")
        self._max_token_bytes = max(len(t) for t in self._vocab)
        ids = list(self._vocab.values()) + list(self._added_ids)
        self.vocab_size = max(ids) + 1
        self._cache = {}

    @staticmethod
    def _compile_added(added_tokens: Sequence[Mapping[str, Any]]) -> tuple[regex.Pattern | None, list[str | None]]:
        if not added_tokens:
            return None, []
        parts = []
        for tok in sorted(added_tokens, key=lambda t: -len(t["content"])):
            body = "(" + regex.escape(tok["content"]) + ")"
            if tok.get("single_word"):
                body = r"(?<!\w)" + body + r"(?!\w)"
            if tok.get("lstrip"):
                body = r"\s*" + body
            if tok.get("rstrip"):
                body = body + r"\s*"
            parts.append(f"(?:{body})")
        return regex.compile("|".join(parts)), [None] + [t["content"] for t in sorted(
            added_tokens, key=lambda t: -len(t["content"]))]

    @classmethod
    def from_file(cls, path: str) -> Tokenizer:
        """Reads a Hugging Face ``tokenizer.json`` (a file, or a folder holding one)."""
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        try:
            with open(path, "r", encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise CheckpointError(f"tokenizer file {path} does not exist; the checkpoint needs "
                                  "tokenizer/tokenizer.json") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise CheckpointError(f"tokenizer file {path} is not valid JSON ({e})") from None
        return cls.from_dict(data, source=path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<memory>") -> Tokenizer:
        """Builds a tokenizer from the parsed JSON of a ``tokenizer.json``."""
        model = data.get("model") or {}
        if model.get("type", "BPE") != "BPE":
            _fail(source, f"model.type is {model.get('type')!r}, only BPE is supported")
        for key in ("continuing_subword_prefix", "end_of_word_suffix"):
            if model.get(key):
                _fail(source, f"model.{key} is {model[key]!r}; only byte-level BPE without it is supported")
        vocab = model.get("vocab")
        if not isinstance(vocab, dict) or not vocab:
            _fail(source, "model.vocab is missing or empty")
        merges = []
        for i, m in enumerate(model.get("merges") or []):
            if isinstance(m, str):
                pair = m.split(" ")
            else:
                pair = list(m)
            if len(pair) != 2:
                _fail(source, f"merge {i} is {m!r}, expected two tokens")
            merges.append((pair[0], pair[1]))
        normalizer = cls._read_normalizer(data.get("normalizer"), source)
        pattern = cls._read_pre_tokenizer(data.get("pre_tokenizer"), source)
        added = []
        for tok in data.get("added_tokens") or []:
            if "content" not in tok or "id" not in tok:
                _fail(source, f"added token {tok!r} lacks content or id")
            added.append(tok)
        return cls(vocab, merges, added, pattern, normalizer=normalizer,
                   ignore_merges=bool(model.get("ignore_merges", False)), source=source)

    @staticmethod
    def _read_normalizer(spec: Mapping[str, Any] | None, source: str) -> str | None:
        if spec is None:
            return None
        kind = spec.get("type")
        if kind in ("NFC", "NFD", "NFKC", "NFKD"):
            return kind
        if kind == "Sequence" and not spec.get("normalizers"):
            return None
        _fail(source, f"normalizer {kind!r} is not supported (Qwen uses NFC)")

    @staticmethod
    def _read_pre_tokenizer(spec: Mapping[str, Any] | None, source: str) -> str | None:
        if spec is None:
            _fail(source, "pre_tokenizer is missing; a byte-level BPE needs ByteLevel")
        steps = spec.get("pretokenizers") if spec.get("type") == "Sequence" else [spec]
        pattern = None
        byte_level = False
        for step in steps:
            kind = step.get("type")
            if kind == "Split":
                if step.get("behavior", "Isolated") != "Isolated" or step.get("invert"):
                    _fail(source, f"Split behavior {step.get('behavior')!r} invert={step.get('invert')} "
                                  "is not supported (Qwen uses Isolated, not inverted)")
                pat = step.get("pattern") or {}
                if "Regex" in pat:
                    pattern = pat["Regex"]
                elif "String" in pat:
                    pattern = regex.escape(pat["String"])
                else:
                    _fail(source, f"Split pattern {pat!r} has neither Regex nor String")
            elif kind == "ByteLevel":
                if step.get("add_prefix_space"):
                    _fail(source, "ByteLevel add_prefix_space=true is not supported (Qwen has false)")
                if step.get("use_regex", True) and pattern is None:
                    pattern = QWEN_SPLIT_PATTERN
                byte_level = True
            else:
                _fail(source, f"pre-tokenizer {kind!r} is not supported (Qwen uses Split + ByteLevel)")
        if not byte_level:
            _fail(source, "pre_tokenizer has no ByteLevel step; only byte-level BPE is supported")
        return pattern

    # encoding

    def _bpe(self, word: str) -> tuple[int, ...]:
        """Token ids of one pre-tokenized word (already mapped to byte-level characters)."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        if self._ignore_merges and word in self._vocab:
            out = (self._vocab[word],)
        else:
            parts = list(word)
            ranks = self._ranks
            while len(parts) > 1:
                best = None
                best_rank = None
                for pair in zip(parts, parts[1:]):
                    r = ranks.get(pair)
                    if r is not None and (best_rank is None or r < best_rank):
                        best, best_rank = pair, r
                if best is None:
                    break
                a, b = best
                merged = []
                i = 0
                n = len(parts)
                while i < n:
                    if i + 1 < n and parts[i] == a and parts[i + 1] == b:
                        merged.append(a + b)
                        i += 2
                    else:
                        merged.append(parts[i])
                        i += 1
                parts = merged
            try:
                out = tuple(self._vocab[p] for p in parts)
            except KeyError as e:
                raise CheckpointError(f"tokenizer file {self.source}: merge result {e.args[0]!r} is not "
                                      "in model.vocab; the file is inconsistent") from None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = out
        return out

    def _encode_plain(self, text: str, out: list[int]) -> None:
        if not text:
            return
        if self._normalizer:
            text = unicodedata.normalize(self._normalizer, text)
        if self._split is None:
            pieces = [text]
        else:
            pieces = []
            pos = 0
            for m in self._split.finditer(text):
                if m.start() > pos:
                    pieces.append(text[pos:m.start()])
                if m.end() > m.start():
                    pieces.append(m.group())
                pos = m.end()
            if pos < len(text):
                pieces.append(text[pos:])
        for piece in pieces:
            word = "".join(_BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))
            out.extend(self._bpe(word))

    def encode(self, text: str) -> list[int]:
        """Token ids of text; added tokens (``<|im_start|>``…) are matched verbatim, never split."""
        out = []
        pos = 0
        if self._added_re is not None:
            for m in self._added_re.finditer(text):
                self._encode_plain(text[pos:m.start()], out)
                out.append(self._added[self._added_groups[m.lastindex]]["id"])
                pos = m.end()
        self._encode_plain(text[pos:], out)
        return out

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """Text of token ids (invalid UTF-8 byte runs become U+FFFD)."""
        buf = bytearray()
        for i in ids:
            i = int(i)
            tok = self._added_ids.get(i)
            if tok is not None:
                if not (skip_special_tokens and tok.get("special")):
                    buf.extend(tok["content"].encode("utf-8"))
                continue
            token = self._id_to_token.get(i)
            if token is None:
                raise ValueError(f"token id {i} is not in the vocabulary (size {self.vocab_size})")
            buf.extend(_CHAR_TO_BYTE[c] for c in token)
        return buf.decode("utf-8", errors="replace")

    def chat_ids(self, prompt: str, max_length: int = 512) -> tuple[list[int], list[int], int]:
        """Qwen3 chat template (one user turn, generation prompt, thinking off), right-padded.

        Returns (ids of length max_length, mask with 1 for real tokens, real token count).
        """
        size = len(prompt.encode("utf-8", errors="replace"))
        if size > max_length * self._max_token_bytes:
            raise RequestError(
                "prompt_too_long",
                f"the prompt is at least {-(-size // self._max_token_bytes)} tokens ({size} bytes), more "
                f"than the limit of {max_length}; shorten the prompt",
                field="prompt")
        ids = self.encode(CHAT_TEMPLATE.format(prompt=prompt))
        count = len(ids)
        if count > max_length:
            raise RequestError(
                "prompt_too_long",
                f"the prompt is {count} tokens with the chat template, more than the limit of "
                f"{max_length}; shorten the prompt",
                field="prompt")
        pad = max_length - count
        return ids + [self.pad_id] * pad, [1] * count + [0] * pad, count
