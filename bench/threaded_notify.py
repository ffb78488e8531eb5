"""The thread-per-channel baseline: how qinglong's `notify.py` fans out, written small and from scratch.

Like that script it imports `requests` up front, gives every configured channel its own thread, posts with
a plain `requests.post` (a new connection each time, no session), prints one line per channel and joins
all the threads. Channels here are generic JSON webhooks, one per URL in `BENCH_URLS` (space-separated).

    BENCH_URLS="http://127.0.0.1:8000/a http://127.0.0.1:8000/b" python bench/threaded_notify.py TITLE BODY
"""

from __future__ import annotations

import os
import sys
import threading

if sys.path and os.path.basename(sys.path[0] or ".") == "bench":
    sys.path.pop(0)  # run as a file: keep bench/'s own modules from shadowing anything

import requests


def webhook(url: str, title: str, content: str, results: dict[str, bool], echo: bool) -> None:
    try:
        response = requests.post(url, json={"title": title, "content": content}, timeout=15)
        results[url] = response.ok
        outcome = "sent" if response.ok else f"failed, HTTP {response.status_code}"
    except requests.RequestException as exc:
        results[url] = False
        outcome = f"failed, {exc}"
    if echo:
        print(f"webhook {url}: {outcome}")


def send(title: str, content: str, urls: list[str], echo: bool = True) -> int:
    """Fan out with one thread per channel; the number of channels that accepted the message."""
    results: dict[str, bool] = {}
    threads = [threading.Thread(target=webhook, args=(url, title, content, results, echo)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(results.values())


def main() -> int:
    urls = os.environ.get("BENCH_URLS", "").split()
    if len(sys.argv) != 3 or not urls:
        print(__doc__, file=sys.stderr)
        return 2
    return 0 if send(sys.argv[1], sys.argv[2], urls) == len(urls) else 1


if __name__ == "__main__":
    sys.exit(main())
