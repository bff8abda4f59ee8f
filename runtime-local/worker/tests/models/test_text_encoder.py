import math
import unittest

import torch
import torch.nn.functional as F

from fluxbot_klein.checkpoint.text_encoder import build_text_encoder, infer_qwen3_config, required_names
from fluxbot_klein.checkpoint.tiny import tiny_text_encoder_state
from fluxbot_klein.errors import CheckpointError
from fluxbot_klein.models.text_encoder import OUTPUT_LAYERS, Qwen3Config

VOCAB = 100


def _rms(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def _naive_attention_block(x, w, cfg, mask):
    """Qwen3 self-attention for one sequence x [L, H], head by head, written from the formulas."""
    n = x.shape[0]
    d = cfg.head_dim
    q = (x @ w["self_attn.q_proj.weight"].T).view(n, cfg.num_heads, d)
    k = (x @ w["self_attn.k_proj.weight"].T).view(n, cfg.num_kv_heads, d)
    v = (x @ w["self_attn.v_proj.weight"].T).view(n, cfg.num_kv_heads, d)
    q = _rms(q, w["self_attn.q_norm.weight"], cfg.rms_eps)
    k = _rms(k, w["self_attn.k_norm.weight"], cfg.rms_eps)
    half = d // 2

    def rotate(t, pos):
        out = t.clone()
        for i in range(half):
            angle = pos / cfg.rope_theta ** (2 * i / d)
            c, s = math.cos(angle), math.sin(angle)
            out[..., i] = t[..., i] * c - t[..., i + half] * s
            out[..., i + half] = t[..., i + half] * c + t[..., i] * s
        return out

    q = torch.stack([rotate(q[p], p) for p in range(n)])
    k = torch.stack([rotate(k[p], p) for p in range(n)])
    group = cfg.num_heads // cfg.num_kv_heads
    heads = []
    for h in range(cfg.num_heads):
        kv = h // group
        out = torch.zeros(n, d)
        for i in range(n):
            keys = [j for j in range(i + 1) if mask[j]]
            scores = torch.tensor([float(q[i, h] @ k[j, kv]) / math.sqrt(d) for j in keys])
            p = torch.softmax(scores, 0)
            out[i] = sum(p[t] * v[j, kv] for t, j in enumerate(keys))
        heads.append(out)
    return torch.cat(heads, dim=-1) @ w["self_attn.o_proj.weight"].T


def _layer_weights(state, i):
    p = f"model.layers.{i}."
    return {k[len(p):]: v for k, v in state.items() if k.startswith(p)}


class EncoderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.cfg = Qwen3Config.tiny(VOCAB)
        cls.state = tiny_text_encoder_state(cls.cfg, seed=0)
        cls.enc = build_text_encoder(cls.state, cls.cfg)

    def ids(self, b=2, n=12, seed=1):
        g = torch.Generator().manual_seed(seed)
        return torch.randint(0, VOCAB, (b, n), generator=g)

    def test_tiny_state(self):
        self.assertIn("model.layers.27.input_layernorm.weight", self.state)
        self.assertNotIn("model.layers.28.input_layernorm.weight", self.state)
        self.assertIn("model.norm.weight", self.state)
        self.assertEqual(infer_qwen3_config({k: tuple(v.shape) for k, v in self.state.items()}), self.cfg)
        self.assertEqual(len(self.enc.layers), 27)

    def test_output_shape(self):
        ids = self.ids()
        out = self.enc(ids, torch.ones_like(ids))
        self.assertEqual(tuple(out.shape), (2, 12, 96))
        self.assertTrue(torch.isfinite(out).all())

    def test_stacking_order(self):
        ids = self.ids()
        mask = torch.ones_like(ids)
        out = self.enc(ids, mask)
        h = self.cfg.hidden_size
        x = F.embedding(ids, self.state["model.embed_tokens.weight"])
        states = self.enc.hidden_states(ids, mask)
        self.assertTrue(torch.equal(states[0], x))
        self.assertEqual(len(states), 28)
        for slot, k in enumerate(OUTPUT_LAYERS):
            torch.testing.assert_close(out[..., slot * h:(slot + 1) * h], states[k], rtol=0, atol=0)
        # hidden state 9 is the embedding after exactly nine layers
        from fluxbot_klein.models.text_encoder import attention_allowed, rope_cos_sin
        cos, sin = rope_cos_sin(12, 16, 1e6, "cpu", torch.float32)
        allowed = attention_allowed(mask)
        for layer in self.enc.layers[:9]:
            x = layer(x, cos, sin, allowed)
        torch.testing.assert_close(out[..., :h], x)
        self.assertFalse(torch.allclose(out[..., :h], out[..., h:2 * h]))

    def test_causal(self):
        ids = self.ids()
        mask = torch.ones_like(ids)
        changed = ids.clone()
        changed[:, 8:] = (changed[:, 8:] + 7) % VOCAB
        a, b = self.enc(ids, mask), self.enc(changed, mask)
        torch.testing.assert_close(a[:, :8], b[:, :8])
        self.assertFalse(torch.allclose(a[:, 8:], b[:, 8:]))

    def test_padding(self):
        ids = self.ids()
        mask = torch.ones_like(ids)
        mask[0, 5:] = 0
        mask[1, 9:] = 0
        changed = ids.clone()
        changed[0, 5:] = (changed[0, 5:] + 3) % VOCAB
        changed[1, 9:] = (changed[1, 9:] + 3) % VOCAB
        a, b = self.enc(ids, mask), self.enc(changed, mask)
        torch.testing.assert_close(a[0, :5], b[0, :5])
        torch.testing.assert_close(a[1, :9], b[1, :9])
        # a padded query sees the real tokens only, not the other padding
        full = self.enc(ids, torch.ones_like(ids))
        self.assertFalse(torch.allclose(a[0, 6:], full[0, 6:]))
        # the same sequence alone, unpadded, gives the same real-token outputs
        alone = self.enc(ids[:1, :5], torch.ones(1, 5, dtype=torch.long))
        torch.testing.assert_close(a[0, :5], alone[0], rtol=1e-5, atol=1e-5)

    def test_batch_independence(self):
        ids = self.ids(b=3)
        mask = torch.ones_like(ids)
        both = self.enc(ids, mask)
        one = self.enc(ids[1:2], mask[1:2])
        torch.testing.assert_close(both[1:2], one, rtol=1e-5, atol=1e-5)

    def test_gqa_attention_matches_naive_reference(self):
        cfg = Qwen3Config(vocab_size=VOCAB, hidden_size=32, num_layers=27, num_heads=4, num_kv_heads=2,
                          head_dim=8, intermediate_size=48)
        state = tiny_text_encoder_state(cfg, seed=3)
        enc = build_text_encoder(state, cfg)
        from fluxbot_klein.models.text_encoder import attention_allowed, rope_cos_sin
        n = 7
        x = torch.randn(2, n, 32, generator=torch.Generator().manual_seed(4))
        mask = torch.ones(2, n, dtype=torch.long)
        mask[1, 5:] = 0
        cos, sin = rope_cos_sin(n, cfg.head_dim, cfg.rope_theta, "cpu", torch.float32)
        got = enc.layers[2].self_attn(x, cos, sin, attention_allowed(mask))
        w = _layer_weights(state, 2)
        for b in range(2):
            want = _naive_attention_block(x[b], w, cfg, mask[b].tolist())
            torch.testing.assert_close(got[b], want, rtol=1e-4, atol=1e-5)

    def test_truncation_of_a_36_layer_state(self):
        state = tiny_text_encoder_state(self.cfg, seed=0, total_layers=36)
        state["lm_head.weight"] = torch.zeros(VOCAB, 32)
        cfg = infer_qwen3_config({k: tuple(v.shape) for k, v in state.items()})
        self.assertEqual(cfg.num_layers, 27)
        enc = build_text_encoder(state, cfg)
        self.assertEqual(len(enc.layers), 27)
        ids = self.ids()
        # layers 0..27 are the same random tensors as the 28-layer state: same output
        torch.testing.assert_close(enc(ids, torch.ones_like(ids)), self.enc(ids, torch.ones_like(ids)))
        # layers after 27 are never read: changing them changes nothing
        for name in list(state):
            if name.startswith("model.layers.30."):
                state[name] = state[name] * 5
        enc2 = build_text_encoder(state, cfg)
        torch.testing.assert_close(enc2(ids, torch.ones_like(ids)), enc(ids, torch.ones_like(ids)))

    def test_only_required_names_are_needed(self):
        state = {k: self.state[k] for k in required_names(self.cfg)}
        enc = build_text_encoder(state, self.cfg)
        ids = self.ids()
        torch.testing.assert_close(enc(ids, torch.ones_like(ids)), self.enc(ids, torch.ones_like(ids)))

    def test_missing_tensor(self):
        state = dict(self.state)
        del state["model.layers.26.self_attn.k_norm.weight"]
        with self.assertRaises(CheckpointError) as cm:
            build_text_encoder(state, self.cfg)
        self.assertIn("model.layers.26.self_attn.k_norm.weight", str(cm.exception))

    def test_bare_names_build(self):
        state = {k[len("model."):]: v for k, v in self.state.items()}
        enc = build_text_encoder(state, self.cfg)
        ids = self.ids()
        torch.testing.assert_close(enc(ids, torch.ones_like(ids)), self.enc(ids, torch.ones_like(ids)))

    def test_bfloat16(self):
        enc = build_text_encoder(self.state, self.cfg, dtype=torch.bfloat16)
        ids = self.ids()
        out = enc(ids, torch.ones_like(ids))
        self.assertEqual(out.dtype, torch.bfloat16)
        ref = self.enc(ids, torch.ones_like(ids))
        rel = (out.float() - ref).norm() / ref.norm()
        self.assertLess(rel.item(), 0.05)


if __name__ == "__main__":
    unittest.main()
