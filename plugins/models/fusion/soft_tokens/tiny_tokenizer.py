"""A small BPE tokenizer trained (with `tokenizers`) on the training narratives.

Lossless round trip: Metaspace pre-tokenisation (spaces become "▁" and are part of
the tokens) plus isolated punctuation; the Metaspace decoder puts the spaces back.
Training is deterministic for the same texts (they are de-duplicated and sorted first).
"""

from __future__ import annotations

from pathlib import Path

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]


class Codec:
    """What the model needs of a tokenizer: ids in, text out, and the special ids."""

    def __init__(self, encode, decode, *, eos_id: int, pad_id: int, vocab_size: int, name: str):
        self._encode = encode
        self._decode = decode
        self.eos_id = int(eos_id)
        self.pad_id = int(pad_id)
        self.vocab_size = int(vocab_size)
        self.name = name

    def encode(self, text: str) -> list[int]:
        return list(self._encode(text))

    def decode(self, ids: list[int]) -> str:
        return self._decode(list(ids)).strip()


def train_tokenizer(texts: list[str], vocab_size: int = 1024):
    """A `tokenizers.Tokenizer` (BPE) trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation(behavior="isolated")]
    )
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
                                  show_progress=False)
    tokenizer.train_from_iterator(sorted(set(texts)), trainer=trainer)
    return tokenizer


def load_tokenizer(path: str | Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def codec_from_tokenizers(tokenizer) -> Codec:
    def encode(text: str):
        return tokenizer.encode(text, add_special_tokens=False).ids

    def decode(ids):
        return tokenizer.decode(ids, skip_special_tokens=True)

    return Codec(encode, decode, eos_id=tokenizer.token_to_id(EOS), pad_id=tokenizer.token_to_id(PAD),
                 vocab_size=tokenizer.get_vocab_size(), name="tiny-bpe")


def codec_from_hf(tokenizer, name: str) -> Codec:
    """A Codec over a transformers tokenizer (pretrained backbones)."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError(f"tokenizer of {name!r} has no EOS token")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos

    def encode(text: str):
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(ids):
        return tokenizer.decode(ids, skip_special_tokens=True)

    return Codec(encode, decode, eos_id=eos, pad_id=pad, vocab_size=len(tokenizer), name=name)
