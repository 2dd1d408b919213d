"""
Operator credentials for the C{tests.web.test_auth_*} tests: a user and
tokens, the C{[api]} configurations that accept them, and Authorization
headers that are right or wrong for each scheme.
"""

from __future__ import annotations

import base64

from ocppcs.config import ApiConfig
from ocppcs.passwd import hash_secret

FAST = {"n": 2**4, "r": 1, "p": 1}
ALICE = f"alice:{hash_secret('wonder land', **FAST)}"
#: One token at the real (default) cost, verified in the thread pool.
TOKEN = "tok-Ab3-xyz"
TOKEN_HASHES = (str(hash_secret("older-token", **FAST)), str(hash_secret(TOKEN)))

BASIC = ApiConfig(auth="basic", users=(ALICE,))
BEARER = ApiConfig(auth="bearer", tokens=TOKEN_HASHES)


def basic(user: str, password: str) -> str:
    """A Basic Authorization header for C{user} and C{password}."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


GOOD = {"basic": basic("alice", "wonder land"), "bearer": f"Bearer {TOKEN}"}
WRONG = {
    "basic": [
        basic("alice", "wonderland"),
        basic("bob", "wonder land"),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no colon").decode(),
        f"Bearer {TOKEN}",
    ],
    "bearer": [f"Bearer {TOKEN}x", "Bearer older", "Bearer", GOOD["basic"], TOKEN],
}
