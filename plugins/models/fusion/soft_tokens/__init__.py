"""The soft-token narrative generator of the REGEN papers, in small parts.

Each history item's CF and/or text embedding goes through an adapter to the LM's
hidden size, giving one *soft token* per item; the soft tokens are prepended to the
LM's input embeddings, followed by the task's instruction, and the LM writes the
narrative. `regen_bench_plugins.models.fusion` assembles the parts into models:

  adapter.py         the adapter (MLP or linear projection) and the per-part analysis
  tiny_tokenizer.py  a small BPE tokenizer trained on the training narratives
  backbones.py       the LM: a tiny decoder from scratch, SmolLM2-135M (GGUF) or any HF causal LM
  sequences.py       instructions, features and the batches fed to the LM
  training.py        teacher-forced training with early stopping on validation loss
  generation.py      batched greedy / beam decoding with the KV cache
  weights_cache.py   trained weights on disk, keyed by everything that determines them

torch and transformers are imported only inside these modules, which the plugin
module imports lazily (listing plugins stays fast).
"""
