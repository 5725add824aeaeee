"""``relsync serve`` refuses a [web] it cannot serve safely: one sentence naming the key and the fix,
exit 2, never a traceback, before anything listens."""

from __future__ import annotations

import pytest

from scheduler.cli import main
from tests.web.consoleenv import Demo, free_port, web_section, write_config


def serve(capsys: pytest.CaptureFixture[str], config: str, *extra: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", config, "serve", *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exit_info.value.code or 0), err


def test_serve_refuses_what_it_cannot_serve_safely(
    demo: Demo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    dev = write_config(demo, "console-dev.toml", web_section(demo, port, None, auth='"dev"'))
    code, err = serve(capsys, str(dev), "--listen", f"0.0.0.0:{port}")
    assert code == 2 and "only listens on loopback" in err and "web.auth" in err

    code, err = serve(capsys, str(dev), "--listen", "8080")
    assert code == 2 and "--listen" in err and "host:port" in err

    monkeypatch.delenv("RELSYNC_WEB_CLIENT_SECRET", raising=False)
    oidc = write_config(
        demo,
        "console-no-secret.toml",
        web_section(demo, port, None, auth='"oidc"')
        + ('\n[web.oidc]\ntenant_id = "t"\nclient_id = "c"\nredirect_uri = "https://console.example/auth/callback"\n'),
    )
    code, err = serve(capsys, str(oidc))
    assert code == 2 and "RELSYNC_WEB_CLIENT_SECRET" in err and "client_secret_env" in err

    nobody = write_config(demo, "console-nobody.toml", f'\n[web]\nauth = "dev"\nlisten = "127.0.0.1:{port}"\n')
    code, err = serve(capsys, str(nobody))
    assert code == 2 and "web.roles" in err
