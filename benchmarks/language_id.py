"""Choose when a message may switch the chat's language: lingua on short chat messages.

Reads tests/language/short_messages.jsonl ({"text", "lang"}: short messages as 13–25 year olds
write them to this bot, English and Dutch, written independently of the NLU data) and, for each
(min_words, min_confidence) pair, reports
- switch rate: the share of messages that would set a language at all (higher = the chat follows
  the user sooner), and
- wrong switches: messages set to the OTHER language (a Dutch user suddenly answered in English),
  as a share of all messages.
The chosen setting is the one with the most switches while wrong switches stay at or below
--max-wrong (default 0.2 %: a wrong switch shows a user a language they did not write in),
among those that need at least two words (the issue: never switch on a one-word answer such as
"ok"); it goes into data/languages.yml `identification`. Also reports lingua's accuracy with no
threshold, and the time per message.

Run: .venv/bin/python benchmarks/language_id.py [--file F] [--max-wrong 0.002]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import langid  # noqa: E402
from bot.languages import languages  # noqa: E402

DEFAULT_FILE = ROOT / "tests" / "language" / "short_messages.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--max-wrong", type=float, default=0.002)
    args = parser.parse_args()
    rows = [
        json.loads(line)
        for line in args.file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rows = [r for r in rows if r.get("lang") in languages().codes]
    langid.warm_up()
    scored, times = [], []
    for row in rows:
        start = time.perf_counter()
        conf = langid.confidences(row["text"])
        times.append(time.perf_counter() - start)
        best = max(conf.items(), key=lambda kv: kv[1]) if conf else (None, 0.0)
        scored.append((row["lang"], langid.word_count(row["text"]), best[0], best[1]))
    n = len(scored)
    by_lang = {code: sum(1 for s in scored if s[0] == code) for code in languages().codes}
    plain = sum(1 for gold, _, got, _ in scored if got == gold) / n
    print(
        f"{n} messages ({', '.join(f'{c}: {k}' for c, k in by_lang.items())}); "
        f"median {statistics.median(s[1] for s in scored)} words"
    )
    print(
        f"lingua, no threshold: accuracy {plain:.3f}; time per message p50 {statistics.median(times) * 1e3:.2f} ms, "
        f"max {max(times) * 1e3:.2f} ms\n"
    )
    print("| min words | min confidence | switch rate | correct switches | wrong switches |")
    print("|---|---|---|---|---|")
    best_setting = None
    for min_words in (1, 2, 3, 4):  # 1 is shown but never chosen: a one-word "ok" must not switch
        for min_conf in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99):
            switched = [
                (gold, got)
                for gold, words, got, value in scored
                if words >= min_words and value >= min_conf and got
            ]
            wrong = sum(1 for gold, got in switched if gold != got) / n
            rate = len(switched) / n
            print(
                f"| {min_words} | {min_conf:.2f} | {rate:.3f} | {rate - wrong:.3f} | {wrong:.3f} |"
            )
            if (
                min_words >= 2
                and wrong <= args.max_wrong
                and (best_setting is None or rate > best_setting[2])
            ):
                best_setting = (min_words, min_conf, rate, wrong)
    current = languages()
    print(
        f"\ncurrent data/languages.yml: min_words {current.min_words}, min_confidence {current.min_confidence}"
    )
    if best_setting:
        print(
            f"best with wrong switches <= {args.max_wrong:.3%}: min_words {best_setting[0]}, "
            f"min_confidence {best_setting[1]} (switch rate {best_setting[2]:.3f}, wrong {best_setting[3]:.3f})"
        )
    wrong_examples = [
        r["text"]
        for r, s in zip(rows, scored)
        if s[1] >= current.min_words and s[3] >= current.min_confidence and s[2] != s[0]
    ]
    print(f"wrong switches at the current setting: {len(wrong_examples)}")
    for text in wrong_examples[:10]:
        print(f"  {text!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
