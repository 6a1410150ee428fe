"""PyTorch baseline for hearth-insight's embedding bench (crates/insight/benches/embed.rs starts
it when the venv from bench/venv.sh exists). Usage: python torch_baseline.py TOKENS

Stays loaded for the whole bench so that its start-up is never timed, and answers one JSON line
for each JSON line on stdin:
  {"texts": [...]}                     -> loads the model (texts cut at TOKENS word pieces),
                                          warms up, replies {"st", "torch", "threads", "load_ms"}
  {"batch": B, "count": N, "seconds": S} -> encodes texts[:N] at batch size B, again and again
                                          until S seconds have passed (whole passes), replies
                                          {"notes_per_s": ...}
stdout carries only these replies; libraries' messages go to stderr. Exits at end of input."""
import json
import os
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    tokens = int(sys.argv[1])
    # The replies get their own copy of stdout; fd 1 itself then goes to stderr, so nothing a
    # library prints (Python or C) can break the protocol.
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def reply(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    started = time.perf_counter()
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    texts, model = None, None
    for line in sys.stdin:
        req = json.loads(line)
        if "texts" in req:
            texts = req["texts"]
            model = SentenceTransformer(os.path.join(ROOT, "models", "all-minilm-l6-v2"),
                                        device="cpu")
            model.max_seq_length = tokens
            with torch.inference_mode():
                for batch in (1, 8):  # warm up
                    model.encode(texts[:8], batch_size=batch, normalize_embeddings=True)
            reply({"st": sentence_transformers.__version__, "torch": torch.__version__,
                   "threads": torch.get_num_threads(),
                   "load_ms": (time.perf_counter() - started) * 1e3})
            continue
        batch, part, seconds = req["batch"], texts[:req["count"]], req["seconds"]
        done = 0
        with torch.inference_mode():
            t = time.perf_counter()
            while True:
                model.encode(part, batch_size=batch, normalize_embeddings=True)
                done += len(part)
                elapsed = time.perf_counter() - t
                if elapsed >= seconds:
                    break
        reply({"notes_per_s": done / elapsed})


if __name__ == "__main__":
    main()
