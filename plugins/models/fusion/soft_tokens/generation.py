"""Batched decoding with the KV cache: greedy (default) or beam search, via `generate`.

The prompt is [soft tokens][instruction], left-padded; `generate` receives
`inputs_embeds` and the attention mask and returns only the new tokens, which are cut
at the first EOS and decoded.
"""

from __future__ import annotations

from .sequences import Row, assemble


def decode_rows(backbone, adapter, rows: list[Row], *, max_new_tokens: int, num_beams: int = 1,
                dtype: str = "float32") -> tuple[list[str], int]:
    """One narrative per row, in order, and the number of tokens generated (bf16 autocast when `dtype` says)."""
    import torch

    from regen_bench_plugins.encoders.devices import autocast

    if not rows:
        return [], 0
    adapter.eval()
    backbone.model.eval()
    codec = backbone.codec
    with torch.no_grad(), autocast(getattr(backbone, "device", "cpu"), dtype):
        embeds, mask, _positions, _ = assemble(rows, backbone, adapter, train=False)
        output = backbone.model.generate(
            inputs_embeds=embeds,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            num_beams=num_beams,
            do_sample=False,
            eos_token_id=codec.eos_id,
            pad_token_id=codec.pad_id,
        )
    texts, produced = [], 0
    for sequence in output.tolist():
        if codec.eos_id in sequence:
            sequence = sequence[: sequence.index(codec.eos_id)]
        produced += len(sequence)
        texts.append(codec.decode(sequence))
    return texts, produced
