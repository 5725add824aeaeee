"""The smallest valid configuration file, shared by the unit tests that load one."""

from scheduler.config import Config, ExchangeConfig

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


def ews(config: Config) -> ExchangeConfig:
    """The `[exchange]` section of a configuration the test knows has one (it is optional for Graph-only sites)."""
    assert config.exchange is not None
    return config.exchange
