"""Embedding models: the OpenAI endpoint in production, an embedded static model by default.

Why this local model. `LocalEmbedder` is a static (bag of token vectors) model distilled from
all-MiniLM-L6-v2: each WordPiece token's MiniLM output, reduced to 256 dimensions by PCA,
weighted by token rarity (SIF) and stored as int8 (6.8 MB, shipped in `engine/data`). Measured by
`bench/embeddings.py` on 2 cores, on the 716 LoCoMo questions with evidence (2,760 turns of 5
conversations), against the full MiniLM and its int8 ONNX export:

| model | recall@10 of evidence turns | one short text | texts/s |
| --- | --- | --- | --- |
| all-MiniLM-L6-v2, full (float32) | 0.300 | — | — |
| all-MiniLM-L6-v2, ONNX int8 | 0.303 | 3.4 ms | 51 |
| wordllama l2_supercat_256 | 0.322 | 0.04 ms | 15,000 |
| distilled static, 256-d int8 (ours) | 0.444 | 0.04 ms | 21,000 |

It finds more of the right memories than the model it came from (conversation memory is
asked about in the words it was said in), is ~85x faster per message than ONNX MiniLM, needs
neither torch nor onnxruntime, and downloads nothing. It is not a faithful copy of MiniLM
(Spearman 0.35 of pairwise similarities, top-10 overlap 24%), so its vectors carry their own
model name and are never compared with another model's.

Weights derive from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0).
"""

from engine.embeddings.local import LocalEmbedder
from engine.embeddings.openai_endpoint import OpenAIEmbedder
from engine.embeddings.protocol import Embedder, EmbeddingError, Vectors, normalise_rows

__all__ = [
    "Embedder",
    "EmbeddingError",
    "LocalEmbedder",
    "OpenAIEmbedder",
    "Vectors",
    "normalise_rows",
]
