"""Intake (tiếp nhận): every way a case, a monthly report or a request for help enters the system —
reporters' cases, units' monthly situation reports, the public counseling form and the Zalo OA webhook.
Owns units, categories, accounts and credentials, and the children's data (encrypted, reads audited)."""
