"""My Number Card identity verification (R5, R10, R13): provider, hand-off, records.

Modules: `provider` (which provider, its endpoints), `oidc` (the relying party's protocol),
`sandbox` (the demo/test provider, /_dev/idp), `handoff` (links and tickets), `flow` (one
verification), `records` (what is stored, the status others read), `address` (address →
municipality). The web pages are `web/identity/`.
"""
