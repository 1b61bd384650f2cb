"""Data files shipped with the engine: tiktoken encodings and the local embedding model."""
