"""PyTorch baseline for hearth-insight's embedding bench (crates/insight/benches/embed.rs runs
it when the venv from bench/venv.sh exists). Usage: python torch_baseline.py TEXTS.json TOKENS
Prints JSON: notes/s at batch 1 and 8 on the same texts, cut at the same length."""
import json
import os
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rate(model, texts, batch, rounds):
    model.encode(texts[:8], batch_size=batch, normalize_embeddings=True)
    t = time.perf_counter()
    for _ in range(rounds):
        model.encode(texts, batch_size=batch, normalize_embeddings=True)
    return rounds * len(texts) / (time.perf_counter() - t)


def main():
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    tokens = int(sys.argv[2])
    model = SentenceTransformer(os.path.join(ROOT, "models", "all-minilm-l6-v2"), device="cpu")
    model.max_seq_length = tokens
    with torch.inference_mode():
        b1 = rate(model, texts[:16], 1, 2)
        b8 = rate(model, texts, 8, 2)
    print(json.dumps({"b1": b1, "b8": b8, "st": sentence_transformers.__version__,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
