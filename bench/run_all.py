"""Every benchmark in turn, then the targets met or missed, into bench/RESULTS.md.

    python -m bench.run_all [--quick] [--stores sqlite,mongo] [--only lag,throughput,...]

--quick uses small N everywhere (a few minutes); the full run takes about an hour on 2 cores.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench import lag, memory, responsiveness, telegram_ceiling, throughput
from bench.common import RESULTS, log, machine, median, percentile, table, update_results

BENCHES = ("lag", "throughput", "memory", "responsiveness", "ceiling")
MIB_150_MB = 150e6 / 2**20  # the target says 150 MB


def targets(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    if "lag" in results:
        herald = [r for r in results["lag"] if r.design == "herald" and r.kind == "sqlite"]
        if herald:
            biggest = max(herald, key=lambda r: r.count)
            p99 = percentile(biggest.lags, 99)
            met = p99 <= 1.0 and not biggest.missing
            rows.append(["p99 lag ≤ 1 s at 10,000 posts (SQLite)", f"{p99:.2f} s at {biggest.count:,}", _yes(met)])
        for run in results["lag"]:
            if run.design == "herald" and run.kind == "mongo":
                p99 = percentile(run.lags, 99)
                rows.append([f"p99 lag, MongoDB stand-in, {run.count:,} posts", f"{p99:.2f} s", "(emulator)"])
    if "throughput" in results:
        rates = results["throughput"]["rates"]
        for kind in ("sqlite", "mongo"):
            if (kind, "herald") not in rates:
                continue
            herald = rates[(kind, "herald")]
            seed, aps = rates.get((kind, "seed"), 0.0), rates.get((kind, "apscheduler"), 0.0)
            ahead = herald > seed and herald > aps
            goal = "≥ 1,000 posts/s and ahead of both baselines" if kind == "sqlite" else "ahead of both baselines"
            met = ahead and (herald >= 1000 or kind != "sqlite")
            rows.append(
                [
                    f"throughput {goal} ({kind})",
                    f"{herald:,.0f}/s vs seed {seed:,.0f}/s, APScheduler {aps:,.0f}/s",
                    _yes(met),
                ]
            )
    if "memory" in results:
        for run in results["memory"]:
            if run.design == "herald":
                mib = run.peak_kib / 1024
                rows.append(
                    [
                        f"RSS ≤ 150 MB at {run.count:,} posts ({run.kind})",
                        f"{mib:.0f} MiB = {mib * 2**20 / 1e6:.0f} MB",
                        _yes(mib <= MIB_150_MB and run.ok),
                    ]
                )
    if "responsiveness" in results:
        groups: dict[tuple[str, str], list[Any]] = {}
        for run in results["responsiveness"]:
            groups.setdefault((run.kind, run.pacing), []).append(run)
        for (kind, pacing), group in groups.items():
            p95s = [percentile([t for _, t in run.samples], 95) * 1000 for run in group]
            p95 = median(p95s)
            label = f"answer p95 ≤ 100 ms at {group[0].users} people ({kind}, {pacing}; median of {len(group)})"
            verdict = _yes(p95 <= 100 and not any(run.failures for run in group))
            if pacing == "burst":  # everyone pressing at the same instant, 8 times over: a stress test
                label += " — stress, beyond the target"
                verdict = "within" if p95 <= 100 else "over"
            rows.append([label, f"{p95:.0f} ms (rounds: {', '.join(f'{v:.0f}' for v in p95s)})", verdict])
    if "ceiling" in results:
        for run in results["ceiling"]:
            took = run.last - run.t0 if run.channel_messages else float("inf")
            share = run.ideal / took if took else 0.0
            lost = sum(n for key, n in run.errors.items() if "429" in key) + max(run.posts - run.report_messages, 0)
            rows.append(
                [
                    f"≥ 90 % of Telegram's ceiling, no unhandled 429 ({run.kind}, owners {run.owners})",
                    f"{100 * share:.0f} % of ceiling; {run.rate_limited} 429s; {lost} messages lost to them",
                    _yes(share >= 0.9 and lost == 0),
                ]
            )
    return rows


PREFIXES = {
    "lag": "p99 lag",
    "throughput": "throughput",
    "memory": "RSS",
    "responsiveness": "answer p95",
    "ceiling": "≥ 90 %",
}


def merged(rows: list[list[str]], chosen: list[str]) -> list[list[str]]:
    """With `--only`, keep the targets of the benchmarks not run now from bench/RESULTS.md."""
    if set(chosen) >= set(BENCHES) or not RESULTS.exists():
        return rows
    text = RESULTS.read_text()
    start, end = text.find("<!-- bench:targets:start -->"), text.find("<!-- bench:targets:end -->")
    if start < 0 or end < 0:
        return rows
    rerun = tuple(PREFIXES[b] for b in chosen if b in PREFIXES)
    kept: list[list[str]] = []
    for line in text[start:end].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not line.startswith("| ") or cells[0] in ("target", "") or set(cells[0]) <= {"-"}:
            continue
        if not cells[0].startswith(rerun):
            kept.append(cells)
    order = {prefix: n for n, prefix in enumerate(PREFIXES.values())}

    def rank(row: list[str]) -> int:
        return next((n for prefix, n in order.items() if row[0].startswith(prefix)), len(order))

    return sorted(kept + rows, key=rank)


def _yes(met: bool) -> str:
    return "met" if met else "**missed**"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stores", default="sqlite,mongo")
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args(argv)
    common = ["--stores", args.stores] + (["--quick"] if args.quick else [])
    chosen = [b for b in args.only.split(",") if b]
    info = machine()
    results: dict[str, Any] = {}
    if "lag" in chosen:
        results["lag"] = lag.main(common)
    if "throughput" in chosen:
        results["throughput"] = throughput.main(common)
    if "memory" in chosen:
        results["memory"] = memory.main(common)
    if "responsiveness" in chosen:
        results["responsiveness"] = responsiveness.main(common)
    if "ceiling" in chosen:
        results["ceiling"] = telegram_ceiling.main(common)
    rows = merged(targets(results), chosen)
    text = table(["target", "measured", ""], rows)
    print(text)
    update_results(
        "targets",
        "Targets (Herald's columns)",
        ("Quick run: small N, indicative only.\n\n" if args.quick else "")
        + (
            f"Re-measured now: {', '.join(chosen)}; the other rows are from the last full run.\n\n"
            if set(chosen) < set(BENCHES)
            else ""
        )
        + text,
        info,
    )
    log("all done")


if __name__ == "__main__":
    main()
