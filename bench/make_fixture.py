"""Reference embeddings from PyPI sentence-transformers, for hearth-insight's equivalence test.

Run through bench/make_fixture.sh (which makes the venv). Loads the model from the local
models/all-minilm-l6-v2 folder that `make setup` installs (never from a hub: offline mode is
forced), embeds the sentences below with normalize_embeddings=True (all-MiniLM-L6-v2's own
pipeline: BERT, mean pooling, Normalize; max_seq_length 256) and writes
crates/insight/tests/fixtures/reference.json.
"""
import hashlib
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "all-minilm-l6-v2")
OUT = os.path.join(ROOT, "crates", "insight", "tests", "fixtures", "reference.json")

LONG = ("Client described a week of broken sleep, waking at three most nights and lying awake "
        "rehearsing conversations with her manager about the restructuring. ") * 12

SENTENCES = [
    "She talked about sleep problems and stress at work.",
    "Reports poor sleep, about four hours a night, since the team was restructured.",
    "Patient denies suicidal ideation, intent or plan.",
    "He said everyone would be better off without him.",
    "Her brother told her he wanted to die.",
    "GAD-7 decreased to 6, mild anxiety.",
    "PHQ-9 total 14 (moderate); item 9 scored 0.",
    "Plan: sleep diary, behavioural activation, review in two weeks.",
    "Discussed grief after her father's death last spring.",
    "Panic attacks on the commute, twice this week.",
    "Mood brighter; back at the gym three times a week.",
    "Conflict with partner about finances and childcare.",
    "Assessment: symptoms consistent with adjustment disorder with anxious mood.",
    "Homework reviewed: completed thought records on four days.",
    "Ça va mieux — Élodie dort mieux depuis la semaine dernière.",
    "No show; left a voicemail and rescheduled for Thursday 3 pm.",
    "sleep",
    "",
    "Is the client safe at home?",
    "Café, naïve résumé: accents and UPPER case are normalised by the tokenizer!!!",
    LONG,  # longer than 256 word pieces: checks truncation
]


def main():
    model = SentenceTransformer(MODEL, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    torch.set_num_threads(max(1, (os.cpu_count() or 1)))
    vecs = model.encode(SENTENCES, batch_size=8, normalize_embeddings=True,
                        convert_to_numpy=True)
    with open(os.path.join(MODEL, "model.safetensors"), "rb") as f:
        weights = hashlib.sha256(f.read()).hexdigest()
    tokens = [len(model.tokenizer(s, truncation=True, max_length=256)["input_ids"])
              for s in SENTENCES]
    doc = {
        "produced_by": "bench/make_fixture.sh: PyPI sentence-transformers "
                       f"{sentence_transformers.__version__}, torch {torch.__version__}, CPU, "
                       "SentenceTransformer(models/all-minilm-l6-v2).encode(..., "
                       "normalize_embeddings=True, batch_size=8)",
        "python": sys.version.split()[0],
        "model_sha256": weights,
        "max_seq_length": model.max_seq_length,
        "sentences": SENTENCES,
        "tokens": tokens,
        "vectors": [[round(float(x), 7) for x in v] for v in vecs],
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {OUT}: {len(SENTENCES)} sentences, tokens {tokens}")


if __name__ == "__main__":
    main()
