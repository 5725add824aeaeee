"""SOAP envelopes, faults and response-message scaffolding, as Exchange 2016 writes them."""

from __future__ import annotations

from dataclasses import dataclass

from connector.fake.ews.xmlout import NS_M, NS_S, NS_T, esc

NS_E = "http://schemas.microsoft.com/exchange/services/2006/errors"


@dataclass(frozen=True)
class ServerBuild:
    major: int = 15
    minor: int = 1
    major_build: int = 2507
    minor_build: int = 6
    version: str = "V2017_07_11"  # what Exchange 2016 CU reports; exchangelib keeps its requested version

    def header(self) -> str:
        return (
            f'<t:ServerVersionInfo MajorVersion="{self.major}" MinorVersion="{self.minor}" '
            f'MajorBuildNumber="{self.major_build}" MinorBuildNumber="{self.minor_build}" '
            f'Version="{self.version}"/>'
        )


def envelope(body: str, build: ServerBuild | None) -> bytes:
    header = f"<s:Header>{build.header()}</s:Header>" if build is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{NS_S}" xmlns:m="{NS_M}" xmlns:t="{NS_T}">'
        f"{header}<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def fault(code: str, message: str, message_xml: str = "") -> bytes:
    """A SOAP 1.1 Fault the way EWS sends it (served with HTTP 500)."""
    mx = f'<t:MessageXml xmlns:t="{NS_T}">{message_xml}</t:MessageXml>' if message_xml else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{NS_S}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="{NS_T}">a:{code}</faultcode>'
        f'<faultstring xml:lang="en-US">{esc(message)}</faultstring>'
        f'<detail><e:ResponseCode xmlns:e="{NS_E}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{NS_E}">{esc(message)}</e:Message>{mx}</detail>'
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


def server_busy_fault(back_off_ms: int) -> bytes:
    return fault(
        "ErrorServerBusy",
        "The server cannot service this request right now. Try again later.",
        f'<t:Value Name="BackOffMilliseconds">{int(back_off_ms)}</t:Value>',
    )


def schema_validation_fault(violation: str, line: int = 0, position: int = 0) -> bytes:
    return fault(
        "ErrorSchemaValidation",
        "The request failed schema validation.",
        f"<t:LineNumber>{line}</t:LineNumber><t:LinePosition>{position}</t:LinePosition>"
        f"<t:Violation>{esc(violation)}</t:Violation>",
    )


def success(op: str, inner: str = "") -> str:
    return f'<m:{op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>{inner}' + (
        f"</m:{op}ResponseMessage>"
    )


def error(op: str, code: str, text: str, inner: str = "", response_class: str = "Error") -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="{response_class}"><m:MessageText>{esc(text)}</m:MessageText>'
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>{inner}"
        f"</m:{op}ResponseMessage>"
    )


def response(op: str, messages: list[str] | str, message_op: str | None = None) -> str:
    inner = messages if isinstance(messages, str) else "".join(messages)
    return f"<m:{op}Response><m:ResponseMessages>{inner}</m:ResponseMessages></m:{op}Response>"


#: Elements an *error* response message must still carry for the schema (and for exchangelib).
ERROR_PAYLOAD: dict[str, str] = {
    "GetItem": "<m:Items/>",
    "CreateItem": "<m:Items/>",
    "UpdateItem": "<m:Items/>",
    "SyncFolderItems": "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>",
    "SyncFolderHierarchy": "<m:SyncState/><m:IncludesLastFolderInRange>true</m:IncludesLastFolderInRange>",
}

#: Response message element per operation (UpdateItem's is UpdateItemResponseMessage etc.).
MESSAGE_NAME: dict[str, str] = {
    "GetFolder": "GetFolder",
    "FindFolder": "FindFolder",
    "SyncFolderHierarchy": "SyncFolderHierarchy",
    "SyncFolderItems": "SyncFolderItems",
    "GetItem": "GetItem",
    "FindItem": "FindItem",
    "CreateItem": "CreateItem",
    "UpdateItem": "UpdateItem",
    "DeleteItem": "DeleteItem",
    "ResolveNames": "ResolveNames",
    "GetUserConfiguration": "GetUserConfiguration",
    "CreateUserConfiguration": "CreateUserConfiguration",
    "UpdateUserConfiguration": "UpdateUserConfiguration",
    "DeleteUserConfiguration": "DeleteUserConfiguration",
}


def error_message(op: str, code: str, text: str) -> str:
    return error(MESSAGE_NAME.get(op, op), code, text, ERROR_PAYLOAD.get(op, ""))
