"""``relsync addin manifest``: the Outlook add-in's manifests (see README, "Outlook add-in")."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.files import write_text_atomically
from scheduler.cli.group import cli


class ManifestInputError(RelsyncError):
    exit_code = EXIT_USAGE
    topic = "input"


@cli.group("addin")
def addin() -> None:
    """The relationship card inside Outlook: an Office add-in served by `relsync serve`."""


@addin.command("manifest")
@click.option(
    "--url",
    required=True,
    metavar="https://HOST",
    help="The address Outlook reaches relsync serve at (HTTPS), e.g. https://relsync.example.com.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xml", "json"]),
    default="xml",
    show_default=True,
    help="xml: the add-in-only manifest (Exchange Server New-App, Microsoft 365); json: the unified "
    "manifest (Microsoft 365 Integrated Apps).",
)
@click.option(
    "--api-client-id",
    default=None,
    metavar="GUID",
    help="json only: relsync's API app registration in Entra ID (webApplicationInfo, for nested app auth).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout), replaced only when complete.",
)
def manifest(url: str, fmt: str, api_client_id: str | None, output: Path | None) -> None:
    """Write the add-in's manifest for relsync at --url."""
    from scheduler.web.addin.manifest import ManifestError, json_manifest_text, xml_manifest

    try:
        text = xml_manifest(url).decode("utf-8") if fmt == "xml" else json_manifest_text(url, api_client_id)
    except ManifestError as exc:
        raise ManifestInputError(f"--url: {exc}") from None
    if output is None:
        sys.stdout.write(text)
    else:
        write_text_atomically(output, text, mode=0o644, label="--output")
        click.echo(f"wrote the {fmt.upper()} manifest to {output}", err=True)
