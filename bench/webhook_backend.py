"""
C{bench/run.py --backend webhook}: its C{--receiver-port} and C{--webhook-*}
options, and the C{[backend]}/C{[webhook]} sections that point ocppcs at
C{webhook_receiver.py} (which C{run.py} starts).
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The webhook options of C{bench/run.py}."""
    p.add_argument("--receiver-port", type=int, default=9230, help="the webhook receiver's port")
    p.add_argument(
        "--webhook-concurrency", type=int, default=100, help="[webhook] max_concurrent (100)"
    )
    p.add_argument("--webhook-pipeline", type=int, default=1, help="[webhook] pipeline (1)")


def webhook_sections(args: argparse.Namespace) -> str:
    """The C{[backend]} and C{[webhook]} sections for C{--backend webhook}, else C{""}."""
    if args.backend != "webhook":
        return ""
    return (
        "\n[backend]\ntype = webhook\n"
        f"\n[webhook]\nurl = http://127.0.0.1:{args.receiver_port}/hook\n"
        f"max_concurrent = {args.webhook_concurrency}\npipeline = {args.webhook_pipeline}\n"
    )
