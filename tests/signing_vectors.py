"""The published request-signing test vectors, checked against the client's and the sandbox's code."""

from __future__ import annotations

PAYMENT_BODY = '{"source":"w1","recipients":[{"asset":"BRLD","amount":"1.00","destination":"w2"}]}'

#: (key, message, expected lowercase hex HMAC-SHA256)
VECTORS: list[tuple[str, str, str]] = [
    ("test", "test", "88cd2108b5347d973cf39cdf9053d7dd42704876d8c9a9bd8e2d168259d3ddf7"),
    (
        "root",
        "POST,/payments,1573264495581,{}",
        "3e3e70e7904f7c99f999e519d950bf4a3d6807a70bdfe3be36e58f4966e14bb3",
    ),
    (
        "test",
        "GET,/wallets,1573264495581",
        "f4604e6f22eca5c61e683d715e6bc296b2c5f61fb1abb5cc3f9ad12c9ece2a43",
    ),
    (
        "secret",
        f"POST,/payments,1573264495581,{PAYMENT_BODY}",
        "702d8640e27b496f134488d57eff4849f9c5803bd57b3ee46fdd4eee1cd3390a",
    ),
]
