"""Verify webhooks with the independent Standard Webhooks library (PyPI
`standardwebhooks`): reads a JSON list of {"secret", "headers", "body"} on
stdin, verifies each, prints how many passed; exits 1 on the first failure."""

import json
import sys

from standardwebhooks.webhooks import Webhook

webhooks = json.load(sys.stdin)
for i, hook in enumerate(webhooks):
    try:
        Webhook(hook["secret"]).verify(hook["body"], hook["headers"])
    except Exception as e:  # noqa: BLE001 - any failure fails the check
        print(f"webhook {i} ({hook['headers'].get('webhook-id')}): {e}", file=sys.stderr)
        sys.exit(1)
print(len(webhooks))
