"""The smallest valid configuration file, shared by the unit tests that load one."""

MINIMAL = """
[exchange]
endpoint = "https://mail.example.com/EWS/Exchange.asmx"
auth = "basic"
username = "svc@example.com"
password_env = "RELSYNC_TEST_PW"

[mailboxes]
addresses = ["alice@example.com"]

[organisation]
internal_domains = ["example.com"]
"""
